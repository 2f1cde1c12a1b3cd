"""KeySet: the parent-key set foreign keys are probed against (a hash table; the key bytes confirm a match)."""

import numpy as np
import pyarrow as pa

from shopdw.load.validate import KeySet, Validator


def _h(*xs):
    return np.array(xs, dtype=np.uint64)


def test_keyset_is_exact_even_when_hashes_collide():
    ks = KeySet()
    # forced hashes: "a" and "b" share hash 5, so a hash match alone must not count as found
    ks.add(_h(5, 9), pa.array(["a", "c"]))
    assert ks.contains(_h(5, 5, 9, 9, 7), pa.array(["a", "b", "c", "x", "y"])).tolist() == [
        True, False, True, False, False,
    ]  # fmt: skip
    ks.add(_h(5, 1), pa.array(["b", "a"]))  # "b" is new (same hash as "a"); "a" comes with another hash
    assert len(ks) == 4  # so it is another entry: the set trusts the hashes it is given
    assert ks.contains(_h(5, 5, 3), pa.array(["a", "b", "b"])).tolist() == [True, True, False]
    ks.add(_h(5, 9), pa.array(["a", "c"]))  # already there: nothing added
    assert len(ks) == 4


def test_keyset_empty_and_many_adds():
    ks = KeySet()
    assert ks.contains(_h(1), pa.array(["a"])).tolist() == [False]
    assert ks.contains(_h(), pa.array([], pa.string())).tolist() == []
    val = Validator()
    try:
        for start in range(0, 3000, 1000):
            val.add_keys("orders", pa.table({"order_id": [f"o{i}" for i in range(start, start + 1000)] + [None]}))
        ks = val.keys[("orders", "order_id")]
        assert len(ks) == 3000
        name = "__probe"
        val.con.register(name, pa.table({"k": ["o0", "o2999", "o3000", "zz", "o1500"]}))
        h, v = val._distinct(name, "k")
        got = dict(zip(v.to_pylist(), ks.contains(h, v).tolist()))
        assert got == {"o0": True, "o2999": True, "o3000": False, "zz": False, "o1500": True}
    finally:
        val.close()


def test_keyset_matches_a_python_set_under_heavy_collisions():
    rng = np.random.default_rng(7)
    words = [f"k{i}" for i in range(300)]
    fake = {w: np.uint64(hash(w) % 5) for w in words}  # 5 hash values for 300 keys: collisions everywhere
    ks, ref = KeySet(), set()
    for _ in range(6):
        chunk = sorted(set(rng.choice(words, 40).tolist()))
        ks.add(np.array([fake[w] for w in chunk], dtype=np.uint64), pa.array(chunk))
        ref.update(chunk)
        probe = rng.permutation(words)[:100].tolist()
        got = ks.contains(np.array([fake[w] for w in probe], dtype=np.uint64), pa.array(probe)).tolist()
        assert got == [w in ref for w in probe]
    assert len(ks) == len(ref)


def test_keyset_keys_of_any_length_and_growth_match_a_python_set():
    """Keys of many lengths (empty, multi-byte UTF-8, not a multiple of 8 bytes, sliced arrays) over
    adds that grow the table many times; real DuckDB hashes, as the loader gets them."""
    import duckdb

    rng = np.random.default_rng(3)
    con = duckdb.connect()
    words = [f"{'k' * (i % 13)}{i}" for i in range(40_000)] + ["", "é", "ü" * 5, "x\x00y", "x\x00"]
    hashes = dict(zip(words, con.execute("select hash(w) from unnest(?) t(w)", [words]).fetchnumpy()["hash(w)"]))
    ks, ref = KeySet(), set()
    for step in range(8):
        chunk = sorted({words[i] for i in rng.integers(0, len(words), 9_000)})  # (numpy str drops NULs)
        arr = pa.array(["pad", *chunk]).slice(1)  # an offset into the buffers
        ks.add(np.array([hashes[w] for w in chunk], dtype=np.uint64), arr)
        ref.update(chunk)
        assert len(ks) == len(ref)
        probe = [words[i] for i in rng.permutation(len(words))[:5_000]] + [f"absent{step}", "k", "x"]
        h = np.array([hashes.get(w, np.uint64(7)) for w in probe], dtype=np.uint64)
        assert ks.contains(h, pa.array(probe, pa.large_string())).tolist() == [w in ref for w in probe]
