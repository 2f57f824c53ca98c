"""A pybloom-live Bloom filter over 64-bit keys, tested a chunk's worth of keys at a time.

pybloom-live sizes the filter (k slices and the bits of each from a capacity and an error
rate), holds its bits and reads and writes its file format. The hash family is ours: slice `j`
of key `h` is bit `(h + j*(h >> 34)) mod m` (double hashing), so a chunk's keys are tested
with one `map` pass and one bitarray lookup for the first slice, not a Python loop per key.
Slices are tested in turn and only the keys still possible go on to the next.

`KeyBloom(capacity, error_rate)` with more `capacity` than keys gives a sparser filter: the first
slice already rejects most keys (less work per chunk) and the false-positive rate drops below
`error_rate`; `expected_fp_rate` says what it is for the keys actually held.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from itertools import compress, repeat
from operator import add, mod, rshift
from typing import Any

from bitarray import bitarray
from pybloom_live import BloomFilter

MAX_SLICE_BITS = 1 << 30
_BATCH = 1 << 16


class KeyBloom(BloomFilter):  # type: ignore[misc]
    """pybloom-live's BloomFilter whose keys are 64-bit ints, hashed by `positions`."""

    def _setup(self, *args: Any) -> None:
        super()._setup(*args)
        if self.bits_per_slice > MAX_SLICE_BITS:
            raise ValueError("bloom filter too large (more than 2^30 bits per slice)")
        self.make_hashes = self.positions
        self._slices: list[bitarray] | None = None

    def positions(self, key: int) -> Iterator[int]:
        """The bit of each slice (offset within the slice) that `key` sets."""
        m = self.bits_per_slice
        g, step = key % m, key >> 34
        for _ in range(self.num_slices):
            yield g
            g = (g + step) % m

    def add_keys(self, keys: Sequence[int]) -> None:
        """Set the bits of every key (the filter's count grows by len(keys)); in batches, so a
        million keys cost a few megabytes of temporary lists, not a hundred."""
        m = self.bits_per_slice
        for at in range(0, len(keys), _BATCH):
            batch = keys[at : at + _BATCH]
            step = list(map(rshift, batch, repeat(34)))
            g = list(map(mod, batch, repeat(m)))
            for j in range(self.num_slices):
                self.bitarray[list(map(add, g, repeat(j * m)))] = 1
                g = list(map(mod, map(add, g, step), repeat(m)))
        self.count += len(keys)
        self._slices = None

    def positives(self, keys: Sequence[int]) -> list[int]:
        """Indexes of the keys the filter may hold (every key it holds, and false positives)."""
        if not keys:
            return []
        slices = self._slices
        if slices is None:
            m = self.bits_per_slice
            slices = [self.bitarray[j * m : (j + 1) * m] for j in range(self.num_slices)]
            self._slices = slices
        m = self.bits_per_slice
        g = list(map(mod, keys, repeat(m)))
        found = slices[0][g]
        index = list(found.search(1))  # the keys still possible
        if not index:
            return []
        g = list(compress(g, found))
        step = [keys[i] >> 34 for i in index]
        for bits in slices[1:]:
            g = [(a + b) % m for a, b in zip(g, step, strict=True)]
            found = bits[g]
            if not found.any():
                return []
            index = list(compress(index, found))
            g = list(compress(g, found))
            step = list(compress(step, found))
        return index

    def expected_fp_rate(self) -> float:
        """The chance that a key not held passes every slice, for the keys held now."""
        if not self.count:
            return 0.0
        fill = 1.0 - math.exp(-self.count / self.bits_per_slice)
        return float(fill**self.num_slices)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.tofile(buf)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyBloom:
        bloom = cls.fromfile(io.BytesIO(data))
        assert isinstance(bloom, KeyBloom)
        return bloom
