"""Generate hostile and nested archive fixtures (zip, tar, 7z, rar, encrypted, broken) by code."""

from __future__ import annotations

import io
import random
import struct
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import py7zr

Members = Sequence[tuple[str, bytes]]


def text_lines(count: int, *, seed: int = 1, prefix: str = "https://example.org/login") -> bytes:
    """Synthetic ULP lines (`url:login:password`), all fake."""
    rnd = random.Random(seed)
    rows = [f"{prefix}{i}:user{i}@example.org:pw{rnd.randrange(10**8):08d}" for i in range(count)]
    return ("\n".join(rows) + "\n").encode()


def junk(size: int, *, seed: int = 7) -> bytes:
    """Incompressible random bytes (a stand-in for screenshots and wallet files)."""
    return random.Random(seed).randbytes(size)


# --------------------------------------------------------------------------- zip


def zip_bytes(members: Members, *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip holding `members` under their exact (possibly hostile) names."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 7, 4, 17, 43, 6))
            info.compress_type = compression
            zf.writestr(info, data)
    return buf.getvalue()


def nested_zip(levels: Sequence[str], leaf: Members) -> bytes:
    """Zips inside zips: `levels[i]` is the name of the (i+1)-th level inside the previous one.

    `nested_zip(["Part2/inner.zip", "deeper.zip"], leaf)` is a zip holding Part2/inner.zip,
    which holds deeper.zip, which holds the `leaf` members.
    """
    data = zip_bytes(leaf)
    for name in reversed(levels):
        data = zip_bytes([(name, data)])
    return data


def zip_of_zeros(name: str, size: int) -> bytes:
    """A deflated member of `size` zero bytes (a small zip bomb), written in 1 MiB steps."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open(name, "w", force_zip64=size > 0x7FFFFFFF) as out,
    ):
        block = bytes(1 << 20)
        left = size
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= len(block)
    return buf.getvalue()


def overlapping_zip(copies: int, *, kernel_size: int, extra: Members = ()) -> bytes:
    """A "non-recursive" zip bomb: `copies` central-directory entries share one deflated
    member of `kernel_size` zeros (CPython's zipfile opens every one of them), followed by
    `extra` ordinary members that overlap nothing."""
    kernel = zip_of_zeros("zeros.bin", kernel_size)
    with zipfile.ZipFile(io.BytesIO(kernel)) as zf:
        cd_offset = zf.start_dir
    local = kernel[:cd_offset]
    central = kernel[cd_offset:]
    entry_len = (
        46
        + int.from_bytes(central[28:30], "little")
        + int.from_bytes(central[30:32], "little")
        + int.from_bytes(central[32:34], "little")
    )
    kernel_entry = central[:entry_len]
    extras_local = b""
    extras_central = b""
    for name, payload in extra:
        one = zip_bytes([(name, payload)])
        with zipfile.ZipFile(io.BytesIO(one)) as zf:
            start = zf.start_dir
        record = bytearray(one[start : len(one) - 22])
        offset = len(local) + len(extras_local)
        record[42:46] = offset.to_bytes(4, "little")
        extras_local += one[:start]
        extras_central += bytes(record)
    body = local + extras_local
    directory = kernel_entry * copies + extras_central
    count = copies + len(extra)
    eocd = (
        b"PK\x05\x06"
        + bytes(4)
        + count.to_bytes(2, "little") * 2
        + len(directory).to_bytes(4, "little")
        + len(body).to_bytes(4, "little")
        + bytes(2)
    )
    return body + directory + eocd


def lying_packed_size(members: Members, target: str) -> bytes:
    """A zip whose `target` entry claims a compressed size running past the end of the file."""
    data = bytearray(zip_bytes(members))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        pos = zf.start_dir
    while data[pos : pos + 4] == b"PK\x01\x02":
        name_len = int.from_bytes(data[pos + 28 : pos + 30], "little")
        skip = 46 + name_len + int.from_bytes(data[pos + 30 : pos + 32], "little")
        skip += int.from_bytes(data[pos + 32 : pos + 34], "little")
        if data[pos + 46 : pos + 46 + name_len].decode() == target:
            data[pos + 20 : pos + 24] = (len(data) * 4).to_bytes(4, "little")
        pos += skip
    return bytes(data)


def flip_stored_byte(members: Members, target: str) -> bytes:
    """A stored zip in which one data byte of `target` is flipped: only its CRC can tell."""
    data = bytearray(zip_bytes(members, compression=zipfile.ZIP_STORED))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(target)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    return bytes(data)


def flip_deflated_byte(members: Members, target: str) -> bytes:
    """A deflated zip in which one compressed byte of `target` is flipped."""
    data = bytearray(zip_bytes(members))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(target)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0x55
    return bytes(data)


def truncated_zip(members: Members, *, keep_member_fraction: float = 0.5) -> bytes:
    """A zip cut inside the data of its last member: no central directory survives."""
    data = zip_bytes(members, compression=zipfile.ZIP_STORED)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        last = zf.infolist()[-1]
    start = last.header_offset + 30 + len(last.filename.encode()) + len(last.extra)
    return data[: start + int(last.compress_size * keep_member_fraction)]


# ZipCrypto (traditional PKWARE encryption), written by hand: zipfile can only read it.


def _crc_table_entry(i: int) -> int:
    crc = i
    for _ in range(8):
        crc = (crc >> 1) ^ 0xEDB88320 if crc & 1 else crc >> 1
    return crc


_CRC_TABLE = [_crc_table_entry(i) for i in range(256)]


class _ZipCrypto:
    def __init__(self, password: bytes) -> None:
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password:
            self._update(byte)

    def _crc(self, crc: int, byte: int) -> int:
        return (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]

    def _update(self, byte: int) -> None:
        k = self.keys
        k[0] = self._crc(k[0], byte)
        k[1] = ((k[1] + (k[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k[2] = self._crc(k[2], (k[1] >> 24) & 0xFF)

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            temp = (self.keys[2] | 2) & 0xFFFF
            out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
            self._update(byte)
        return bytes(out)


def zipcrypto_bytes(members: Members, password: str, *, seed: int = 3) -> bytes:
    """A zip whose members are deflated and ZipCrypto-encrypted with `password`."""
    rnd = random.Random(seed)
    out = io.BytesIO()
    central = []
    for name, data in members:
        raw_name = name.encode()
        crc = zlib.crc32(data)
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = packer.compress(data) + packer.flush()
        header = rnd.randbytes(11) + bytes([crc >> 24])
        payload = _ZipCrypto(password.encode()).encrypt(header + packed)
        offset = out.tell()
        fields = (20, 0x1, 8, 0, 0x5821, crc, len(payload), len(data), len(raw_name), 0)
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields) + raw_name + payload)
        central.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02", 20, 20, 0x1, 8, 0, 0x5821, crc, len(payload), len(data),
                len(raw_name), 0, 0, 0, 0, 0, offset,
            )
            + raw_name
        )  # fmt: skip
    cd_offset = out.tell()
    directory = b"".join(central)
    out.write(directory)
    count = len(central)
    out.write(
        struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(directory), cd_offset, 0)
    )
    return out.getvalue()


def aes_zip_bytes(members: Members, password: str) -> bytes:
    """A WinZip-AES (AE-2, 256 bit) encrypted zip, written with pyzipper."""
    import pyzipper

    buf = io.BytesIO()
    with pyzipper.AESZipFile(
        buf, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as zf:
        zf.setpassword(password.encode())
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


# --------------------------------------------------------------------------- tar


def tar_bytes(members: Members, *, compression: str = "") -> bytes:
    """A tar (`compression` "", "gz", "bz2" or "xz") holding `members` under their exact names."""
    buf = io.BytesIO()
    mode = f"w:{compression}" if compression else "w"
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.mktime((2024, 7, 4, 17, 43, 6, 0, 0, -1)))
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def tar_with_links(members: Members) -> bytes:
    """A tar whose regular members sit next to a symlink and a hard link pointing outside."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link-to-passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
        hard = tarfile.TarInfo("hard-to-shadow")
        hard.type = tarfile.LNKTYPE
        hard.linkname = "../../etc/shadow"
        tf.addfile(hard)
    return buf.getvalue()


# --------------------------------------------------------------------------- 7z


def sevenzip_folders(members: Members) -> bytes:
    """A 7z whose members each sit in their own folder (solid block), as `7z -ms=off` writes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.7z"
        for i, (name, data) in enumerate(members):
            with py7zr.SevenZipFile(path, "a" if i else "w") as archive:
                archive.writestr(data, name)
        return path.read_bytes()


def sevenzip_bytes(
    members: Members, *, password: str | None = None, header_encryption: bool = False
) -> bytes:
    """A 7z archive (LZMA2; AES-256 when `password` is given)."""
    buf = io.BytesIO()
    with py7zr.SevenZipFile(
        buf, "w", password=password, header_encryption=header_encryption
    ) as archive:
        for name, data in members:
            archive.writestr(data, name)
    return buf.getvalue()


# --------------------------------------------------------------------------- rar (RAR 4.x)


def _rar_block(kind: int, flags: int, body: bytes, add: bytes = b"") -> bytes:
    size = 7 + len(body)
    without_crc = struct.pack("<BHH", kind, flags, size) + body
    crc = zlib.crc32(without_crc) & 0xFFFF
    return struct.pack("<H", crc) + without_crc + add


def rar4_bytes(members: Members, *, method: int = 0x30) -> bytes:
    """A RAR 4 archive written by hand. `method` 0x30 stores the data (readable without
    an unrar tool); any other value claims compression and holds the raw bytes (unreadable)."""
    out = bytearray(b"Rar!\x1a\x07\x00")
    out += _rar_block(0x73, 0x0000, b"\x00" * 6)
    for name, data in members:
        raw_name = name.encode()
        body = struct.pack(
            "<IIBIIBBHI", len(data), len(data), 3, zlib.crc32(data), 0x58E4_8B63, 29, method,
            len(raw_name), 0o100644,
        ) + raw_name  # fmt: skip
        out += _rar_block(0x74, 0x8000, body, data)
    out += _rar_block(0x7B, 0x4000, b"")
    return bytes(out)


# --------------------------------------------------------------------------- helpers


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def listing(root: Path) -> list[str]:
    """Every path under `root` (files and folders), relative and sorted."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def names(items: Iterable[object]) -> list[str]:
    return [getattr(item, "origin", "") for item in items]
