from datetime import date

import pytest

from shopdw.errors import EXIT_BLOCKED, GateFailed
from shopdw.pipeline import lit
from shopdw.quality.checks import reason_dimension
from shopdw.quality.gate import CheckResult, Scorecard


def test_score_threshold_and_status():
    c = CheckResult("x", "validity", "t", 1000, 31, 97.0, True)
    assert c.score == pytest.approx(96.9) and c.status == "fail"
    assert CheckResult("x", "validity", "t", 1000, 30, 97.0, True).status == "pass"
    assert CheckResult("x", "volume", "t", 1, 1, None, False).status == "warn"
    assert CheckResult("x", "freshness", "t", 1, 0, None, True).status == "pass"
    assert CheckResult("empty", "accuracy", "t", 0, 0, 98.0, True).score == 100.0


def test_gate_names_check_rows_examples_and_where_to_look():
    card = Scorecard("run-1", date(2025, 1, 2), [
        CheckResult("quarantined_rows_validity", "validity", "meta.quarantine", 1000, 50, 97.0, True,
                    "raw/customers/ingest_date=2025-01-02/sim-20250102.parquet|7|customer_state 'XX'"),
        CheckResult("volume_vs_trailing_7d", "volume", "meta.load_ledger", 1, 1, None, False),
        CheckResult("freshness", "freshness", "meta.load_ledger", 1, 0, None, True),
    ])  # fmt: skip
    assert [c.check_name for c in card.blocking_failures] == ["quarantined_rows_validity"]
    assert card.summary() == {"checks": 3, "passed": 1, "warnings": 1, "failed": 1}
    with pytest.raises(GateFailed) as e:
        card.raise_if_blocked()
    msg = str(e.value)
    assert "quarantined_rows_validity" in msg and "50 of 1000" in msg and "customer_state 'XX'" in msg
    assert "shopdw quality --run run-1" in msg and "nothing was published" in msg
    assert e.value.exit_code == EXIT_BLOCKED


def test_reason_dimensions():
    # the loader's reason texts (src/shopdw/load/validate.py)
    assert reason_dimension("null in required column order_id") == "completeness"
    assert reason_dimension("order_id: orphan foreign key, value 'x' not found in orders.order_id") == "consistency"
    assert reason_dimension("duplicate row: exact copy of an earlier row") == "consistency"
    assert reason_dimension("price: value '-3.00' below minimum 0") == "accuracy"
    assert reason_dimension("customer_state: value 'XX' is not an allowed value") == "validity"
    assert reason_dimension("price: value 'n/a' does not cast to DECIMAL(12,2)") == "validity"
    assert reason_dimension("customer_city: value 'null in required column' is not an allowed value") == "validity"


def test_lit_quotes_every_dialect_safely():
    assert lit("o'brien") == "'o''brien'"
    assert lit(None) == "null" and lit(True) == "true" and lit(3) == "3"
    assert lit(date(2025, 1, 2)) == "date '2025-01-02'"
