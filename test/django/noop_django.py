"""A real ORM against pg_hygiene's no-op UPDATE suppression.

Django's Model.save() on an existing object runs an UPDATE and, when the server
reports 0 rows, falls back to an INSERT.  With no-op suppression the UPDATE of an
unchanged object must still report 1 row (so save() succeeds) and must create no new
tuple version.  For contrast, the built-in suppress_redundant_updates_trigger makes the
same save() fail with a duplicate key.

Usage: noop_django.py HOST PORT DBNAME MODE   (prints "ok ..." / "not ok ..." lines)
"""
import sys

import django
from django.conf import settings

host, port, dbname, mode = sys.argv[1:5]
settings.configure(
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": host,
            "PORT": port,
            "NAME": dbname,
            "USER": "",
            "OPTIONS": {"options": "-c pg_hygiene.noop_updates=%s" % mode},
        }
    },
    INSTALLED_APPS=[],
    USE_TZ=True,
)
django.setup()

from django.db import IntegrityError, connection, models, transaction  # noqa: E402


class Item(models.Model):
    name = models.CharField(max_length=50)
    qty = models.IntegerField()

    class Meta:
        app_label = "noopdemo"
        db_table = "dj_item_" + mode


class Plain(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        app_label = "noopdemo"
        db_table = "dj_plain_" + mode


failures = 0


def check(ok, what):
    global failures
    print(("ok " if ok else "not ok ") + what)
    if not ok:
        failures += 1


def version(model, pk):
    with connection.cursor() as cur:
        cur.execute("SELECT ctid::text, xmin::text FROM %s WHERE id = %%s" % model._meta.db_table, [pk])
        return cur.fetchone()


with connection.schema_editor() as editor:
    editor.create_model(Item)
    editor.create_model(Plain)

item = Item.objects.create(name="widget", qty=1)
before = version(Item, item.pk)

# save() of an unchanged object: one UPDATE that reports 1 row, no INSERT, no new version
item = Item.objects.get(pk=item.pk)
try:
    item.save()
    check(True, "%s: save() of an unchanged object succeeds" % mode)
except IntegrityError as e:
    check(False, "%s: save() of an unchanged object succeeds (%s)" % (mode, e))
check(Item.objects.count() == 1, "%s: still one row" % mode)
check(version(Item, item.pk) == before, "%s: no new tuple version" % mode)

# update() reports the matched rows exactly as stock
n = Item.objects.filter(pk=item.pk).update(qty=1)
check(n == 1, "%s: QuerySet.update() of an unchanged row reports 1 (got %d)" % (mode, n))
check(version(Item, item.pk) == before, "%s: update() wrote no new version" % mode)

# a real change is written
item.qty = 2
item.save()
check(version(Item, item.pk) != before, "%s: a real change writes a new version" % mode)
check(Item.objects.get(pk=item.pk).qty == 2, "%s: the change is visible" % mode)

# save() inside an atomic block (explicit transaction) works the same
with transaction.atomic():
    item = Item.objects.get(pk=item.pk)
    mid = version(Item, item.pk)
    item.save()
check(version(Item, item.pk) == mid, "%s: save() in atomic() wrote no new version" % mode)

# contrast: the built-in trigger hides the row from the count, save() tries an INSERT
with connection.cursor() as cur:
    cur.execute(
        "CREATE TRIGGER z_suppress BEFORE UPDATE ON %s FOR EACH ROW "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()" % Plain._meta.db_table
    )
plain = Plain.objects.create(name="p")
plain = Plain.objects.get(pk=plain.pk)
try:
    with transaction.atomic():
        plain.save()
    check(False, "%s: built-in suppress_redundant_updates_trigger breaks save()" % mode)
except IntegrityError:
    check(True, "%s: built-in suppress_redundant_updates_trigger breaks save()" % mode)

# tables are left for the caller to inspect hygiene.table_write_stats
sys.exit(1 if failures else 0)
