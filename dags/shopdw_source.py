"""shopdw_source — the shop's own system, as an Airflow DAG: every day the simulator writes that
day's batch of every entity into the lake (raw/<entity>/ingest_date=<day>/...).

The day is the run's data interval (logical date D covers [D, D+1) UTC), never the wall
clock, and the simulator is deterministic per day: a rerun or a backfill writes the same bytes,
which the immutable lake accepts as a no-op. Simulator options come from the Airflow variable
`shopdw_source` (JSON: orders_per_day, seed, defect_rate, late_rate, fmt); the lake from the
SHOPDW_* environment or the `shopdw_settings` variable. See shopdw.orchestration.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, task

from shopdw.orchestration import default_args, start_date


@dag(
    dag_id="shopdw_source",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=start_date(),
    catchup=True,
    max_active_runs=2,  # days are independent (deterministic per day); 2 cores
    default_args=default_args(execution_timeout=timedelta(hours=1)),
    tags=["shopdw", "source"],
    doc_md=__doc__,
)
def shopdw_source():
    @task(task_id="generate_batch")
    def generate_batch(**context) -> dict:
        """Write the data interval's day of shop data to the lake."""
        from shopdw.orchestration import generate_day

        return generate_day(context)

    generate_batch()


shopdw_source()
