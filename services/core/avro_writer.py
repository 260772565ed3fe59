"""A schema-compiled Avro binary writer: for one parsed schema, Python source that writes a record's body directly
(zig-zag varints, length-prefixed UTF-8, unions by branch index, blocked arrays and maps) is generated once and
compiled into a function. Byte-identical to fastavro's `schemaless_writer` for every record the schema accepts
(tests/unit/test_avro_writer.py keeps fastavro as the reference), and it refuses, by raising, a value it cannot
write. Only the types the hub's schemas use are compiled; `compile_writer` raises `NotCompilable` for any other
schema, which then stays with fastavro."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fastavro.write import LOGICAL_WRITERS

Writer = Callable[[dict[str, Any]], bytes]


class NotCompilable(ValueError):
    """The schema uses a type this writer does not compile."""


# Memoised (values repeat: one batch's timestamps, the lengths of the same reasons): bounded, and only results are
# kept, so a value out of range raises every time.
@lru_cache(maxsize=4096)
def _varint(n: int) -> bytes:
    """The zig-zag varint of a long, as Avro writes it."""
    if not -(1 << 63) <= n < (1 << 63):
        raise OverflowError("long out of range")
    z = (n << 1) ^ (n >> 63)
    if z < 0x80:
        return _ONE_BYTE[z]
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


_ONE_BYTE = [bytes((z,)) for z in range(0x80)]


def _long(value: Any) -> bytes:
    if not isinstance(value, int):
        raise TypeError(f"{type(value).__name__} is not a long")
    return _varint(value)


@lru_cache(maxsize=4096)
def _string(value: str) -> bytes:
    """A string's length and UTF-8 bytes, memoised: for the items of string arrays and the keys of maps, which are
    mostly a vocabulary (field paths, reasons, details keys) repeated across records."""
    b = value.encode()
    return _varint(len(b)) + b


def _logical(prepare: Callable[[Any, Any], Any], write: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """The writer of a logical type's values (`prepare` turns a datetime or date into its long or int), memoised by
    value AND type (`typed`: 1, 1.0 and True are different keys, so a value it cannot write still raises)."""
    @lru_cache(maxsize=4096, typed=True)
    def logical(value: Any) -> bytes:
        return write(prepare(value, None))
    return logical


def _int(value: Any) -> bytes:
    if not isinstance(value, int) or not -(1 << 31) <= value < (1 << 31):
        raise TypeError("not an Avro int")
    return _varint(value)


def _length(n: str, indent: str = "") -> list[str]:
    """Statements appending the varint of the length `n` (a local of the generated code): one byte below 64."""
    return [f"{indent}if {n} < 64:", f"{indent}    out.append({n} << 1)", f"{indent}else:",
            f"{indent}    out += _varint({n})"]


class _Compiler:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"_varint": _varint, "_long": _long, "_int": _int, "_string": _string}
        self.named: dict[str, Any] = {}  # full name -> parsed schema, as fastavro names later references
        self.functions: dict[str, str] = {}  # record or enum full name -> generated function name
        self.counter = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def function_for(self, schema: dict[str, Any]) -> str:
        """The name of the generated function `f(out, value)` writing a record or enum type."""
        name = schema["name"]
        if name in self.functions:
            return self.functions[name]
        fn = self.fresh("_w_")
        self.functions[name] = fn
        self.named[name] = schema
        body: list[str] = []
        if schema["type"] == "record":
            for f in schema["fields"]:
                var = self.fresh("v")
                fname = f["name"]
                if "default" in f:
                    body.append(f"{var} = d.get({fname!r}, {self.constant(f['default'])})")
                elif _nullable(f["type"]):
                    body.append(f"{var} = d.get({fname!r})")
                else:
                    body.append(f"{var} = d[{fname!r}]")
                body.extend(self.write(f["type"], var))
        else:  # enum: each symbol's encoded index, computed here
            index = self.constant({s: _varint(i) for i, s in enumerate(schema["symbols"])})
            body.append(f"out += {index}[d]")
        self.lines.append(f"def {fn}(out, d):")
        self.lines.extend("    " + line for line in body or ["pass"])
        return fn

    def constant(self, value: Any) -> str:
        if value is None or isinstance(value, bool | int | str):
            return repr(value)
        name = self.fresh("_c")
        self.names[name] = value
        return name

    def write(self, schema: Any, var: str) -> list[str]:
        """Statements appending the encoding of `var` (of type `schema`) to `out`."""
        if isinstance(schema, str):
            if schema in self.named:
                return [f"{self.function_for(self.named[schema])}(out, {var})"]
            return self.primitive(schema, var)
        if isinstance(schema, list):
            return self.union(schema, var)
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical is not None:
            prepare = LOGICAL_WRITERS.get(f"{kind}-{logical}")
            if prepare is None or kind not in ("int", "long"):
                raise NotCompilable(f"logical type {kind}-{logical}")
            fn = self.fresh("_logical")
            self.names[fn] = _logical(prepare, _long if kind == "long" else _int)
            return [f"out += {fn}({var})"]
        if kind in ("record", "enum"):
            return [f"{self.function_for(schema)}(out, {var})"]
        if kind == "array":
            item, n = self.fresh("i"), self.fresh("n")
            items = [f"out += _string({item})"] if schema["items"] == "string" else self.write(schema["items"], item)
            return [f"{n} = len({var})", f"if {n}:", *_length(n, "    "), f"    for {item} in {var}:",
                    *("        " + line for line in items), "out += b'\\x00'"]
        if kind == "map":
            key, value, n = self.fresh("k"), self.fresh("m"), self.fresh("n")
            return [f"{n} = len({var})", f"if {n}:", *_length(n, "    "), f"    for {key}, {value} in {var}.items():",
                    f"        out += _string({key})",
                    *("        " + line for line in self.write(schema["values"], value)), "out += b'\\x00'"]
        if isinstance(kind, str) and kind in _PRIMITIVES:
            return self.primitive(kind, var)
        raise NotCompilable(f"type {kind}")

    def primitive(self, kind: str, var: str) -> list[str]:
        if kind == "string":
            b, n = self.fresh("b"), self.fresh("n")
            return [f"{b} = {var}.encode()", f"{n} = len({b})", *_length(n), f"out += {b}"]
        if kind == "long":
            return [f"out += _long({var})"]
        if kind == "int":
            return [f"out += _int({var})"]
        if kind == "boolean":
            return [f"if {var} is True:", "    out.append(1)", f"elif {var} is False:", "    out.append(0)", "else:",
                    "    raise TypeError('not a boolean')"]
        if kind == "null":
            return [f"if {var} is not None:", "    raise TypeError('not null')"]
        raise NotCompilable(f"type {kind}")

    def union(self, branches: list[Any], var: str) -> list[str]:
        # Only a nullable single type: None is the null branch, anything else the other branch's value.
        if len(branches) != 2 or "null" not in branches:
            raise NotCompilable("union other than null and one type")
        null_index = branches.index("null")
        other = branches[1 - null_index]
        return [f"if {var} is None:", f"    out.append({null_index << 1})", "else:",
                f"    out.append({(1 - null_index) << 1})", *("    " + line for line in self.write(other, var))]


_PRIMITIVES = ("string", "long", "int", "boolean", "null")


def _nullable(avro_type: Any) -> bool:
    return isinstance(avro_type, list) and "null" in avro_type


def compile_writer(parsed: dict[str, Any]) -> Writer:
    """The writer of a parsed record schema: `writer(record) -> body bytes` (no single-object header)."""
    if parsed.get("type") != "record":
        raise NotCompilable("not a record schema")
    compiler = _Compiler()
    top = compiler.function_for(parsed)
    source = "\n".join([*compiler.lines, "def write(d):", "    out = bytearray()", f"    {top}(out, d)",
                        "    return bytes(out)"])
    namespace = dict(compiler.names)
    exec(compile(source, f"<avro writer {parsed['name']}>", "exec"), namespace)  # the source generated above
    writer: Writer = namespace["write"]
    return writer
