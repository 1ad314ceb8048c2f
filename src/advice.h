/*-------------------------------------------------------------------------
 *
 * advice.h
 *		Rolling per-table history of statistics samples for the advice
 *		views (hygiene.table_health, hygiene.table_advice).
 *
 * The C side only stores and returns samples; what a sample contains (the
 * metric vector) and every rule are defined in SQL, in the advice section of
 * pg_hygiene--0.1.sql.
 *
 * IDENTIFICATION
 *	  src/advice.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_ADVICE_H
#define HYGIENE_ADVICE_H

/* Largest metric vector one sample may carry. */
#define ADVICE_MAX_METRICS 16

extern void advice_init(void);

/* pg_hygiene.advice_sample_interval, in seconds (0: no background sampling). */
extern int	advice_sample_interval;

/* Register the background sampler (advice_worker.c). */
extern void advice_worker_init(void);

#endif							/* HYGIENE_ADVICE_H */
