#!/usr/bin/python3
"""Strict, independent reader of OTLP/JSON lines, for otelc's tests.

Each input line must be one ExportTraceServiceRequest (--kind traces) or one
ExportLogsServiceRequest (--kind logs) in OTLP/JSON, the encoding the OTLP
specification prescribes ("JSON Protobuf Encoding"): the proto3 JSON mapping,
with three rules of its own, which this script enforces rather than tolerates:

  * trace_id, span_id and parent_span_id are hex strings, not base64;
  * enum values are integers, never names;
  * keys are lowerCamelCase (the proto3 mapping also accepts the original
    snake_case names; OTLP does not).

Everything else (int64 and fixed64 as strings or numbers, AnyValue.bytesValue
in base64, ...) is plain proto3 JSON and is left to the protobuf runtime's own
json_format.Parse, with unknown fields rejected. The messages come from code
protoc generates from otelc's proto/ tree, not from otelc's encoder, so a test
that pipes otelc's output through here checks it against an independent
reader.

Output: one JSON object per input line, the parsed request as
json_format.MessageToDict gives it with the proto field names (snake_case),
enums as integers, 64-bit integers as decimal strings, and ids back in
lowercase hex. With --count, one number instead: the spans or log records in
all lines together.

A line that does not parse: "line N: <why>" on stderr, exit status 1.
Bad usage or a missing runtime: exit status 2.

The generated modules are found through --py-dir or $OTELC_OTLP_PY_DIR (the
build tree's otlp_py directory). Run it with Debian's /usr/bin/python3, which
has python3-protobuf; a python3 earlier on PATH may not.
"""

import argparse
import base64
import binascii
import json
import os
import sys

# Bytes fields that OTLP/JSON spells in hex, with the length each must have
# once decoded. The names are the proto field names; the check below is keyed
# on the field's full name so that AnyValue.bytes_value (base64) is untouched.
HEX_ID_FIELDS = {
    "opentelemetry.proto.trace.v1.Span.trace_id": 16,
    "opentelemetry.proto.trace.v1.Span.span_id": 8,
    "opentelemetry.proto.trace.v1.Span.parent_span_id": 8,
    "opentelemetry.proto.trace.v1.Span.Link.trace_id": 16,
    "opentelemetry.proto.trace.v1.Span.Link.span_id": 8,
    "opentelemetry.proto.logs.v1.LogRecord.trace_id": 16,
    "opentelemetry.proto.logs.v1.LogRecord.span_id": 8,
}

# Ids a span cannot do without: an empty or missing value there is an error
# even though proto3 would read it as "unset".
REQUIRED_IDS = {
    "opentelemetry.proto.trace.v1.Span.trace_id",
    "opentelemetry.proto.trace.v1.Span.span_id",
}

HEX_DIGITS = frozenset("0123456789abcdef")


class DecodeError(Exception):
    pass


def load_modules(py_dir):
    if py_dir:
        sys.path.insert(0, py_dir)
    try:
        from google.protobuf import json_format
        from google.protobuf.descriptor import FieldDescriptor
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    except ImportError as e:
        sys.stderr.write(
            "otlp_json_decode: cannot import the generated OTLP modules or "
            "google.protobuf (%s); set OTELC_OTLP_PY_DIR or --py-dir to the "
            "build tree's otlp_py and run with /usr/bin/python3\n" % e)
        sys.exit(2)
    return json_format, FieldDescriptor, {
        "traces": trace_service_pb2.ExportTraceServiceRequest,
        "logs": logs_service_pb2.ExportLogsServiceRequest,
    }


def reject_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise DecodeError("duplicate key %r" % key)
        obj[key] = value
    return obj


def reject_constant(name):
    raise DecodeError("%s is not JSON" % name)


class Decoder:
    def __init__(self, json_format, field_descriptor, request_classes):
        self.json_format = json_format
        self.FD = field_descriptor
        self.request_classes = request_classes

    # Walks the JSON next to the message descriptor: checks the OTLP-specific
    # rules and rewrites hex ids to the base64 json_format expects. Keys it
    # does not know are left in place for json_format to reject.
    def to_proto3_json(self, obj, descriptor, path):
        if not isinstance(obj, dict):
            # json_format reports the type error with its own words.
            return obj
        seen = set()
        for key in list(obj):
            field = descriptor.fields_by_camelcase_name.get(key)
            if field is None:
                if key in descriptor.fields_by_name and descriptor.fields_by_name[key].json_name != key:
                    raise DecodeError("%s.%s: key is not lowerCamelCase (OTLP/JSON wants %r)"
                                      % (path, key, descriptor.fields_by_name[key].json_name))
                continue
            seen.add(field.full_name)
            value = obj[key]
            where = "%s.%s" % (path, key)
            if field.full_name in HEX_ID_FIELDS:
                obj[key] = self.hex_to_base64(value, HEX_ID_FIELDS[field.full_name],
                                              field.full_name in REQUIRED_IDS, where)
            elif field.type == self.FD.TYPE_ENUM:
                self.check_enum(value, field, where)
            elif field.type == self.FD.TYPE_MESSAGE:
                if field.label != self.FD.LABEL_REPEATED:
                    obj[key] = self.to_proto3_json(value, field.message_type, where)
                elif isinstance(value, list):
                    obj[key] = [self.to_proto3_json(v, field.message_type, "%s[%d]" % (where, i))
                                for i, v in enumerate(value)]
                # A repeated field that is not a list is json_format's to reject.
        for name in REQUIRED_IDS:
            field_path = name.rsplit(".", 1)
            if field_path[0] == descriptor.full_name and name not in seen:
                raise DecodeError("%s: missing %s" % (path, descriptor.fields_by_name[field_path[1]].json_name))
        return obj

    @staticmethod
    def hex_to_base64(value, size, required, where):
        if not isinstance(value, str):
            raise DecodeError("%s: id must be a hex string, got %s" % (where, type(value).__name__))
        if value == "" and not required:
            return value
        if len(value) != 2 * size or not HEX_DIGITS.issuperset(value):
            raise DecodeError("%s: %r is not %d lowercase hex digits" % (where, value, 2 * size))
        if value == "0" * (2 * size):
            raise DecodeError("%s: id is all zeroes (invalid)" % where)
        return base64.b64encode(binascii.unhexlify(value)).decode("ascii")

    def check_enum(self, value, field, where):
        values = value if (field.label == self.FD.LABEL_REPEATED and isinstance(value, list)) else [value]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int):
                raise DecodeError("%s: enum %s must be an integer, got %r"
                                  % (where, field.enum_type.name, v))

    def kind_of(self, obj, forced):
        if forced:
            return forced
        if "resourceSpans" in obj and "resourceLogs" not in obj:
            return "traces"
        if "resourceLogs" in obj and "resourceSpans" not in obj:
            return "logs"
        raise DecodeError("cannot tell traces from logs (want exactly one of "
                          "resourceSpans / resourceLogs, or pass --kind)")

    def decode_line(self, text, forced_kind):
        if text.strip() == "":
            raise DecodeError("empty line")
        try:
            obj = json.loads(text, object_pairs_hook=reject_duplicates,
                             parse_constant=reject_constant)
        except ValueError as e:
            raise DecodeError("not JSON: %s" % e)
        if not isinstance(obj, dict):
            raise DecodeError("not a JSON object")
        kind = self.kind_of(obj, forced_kind)
        cls = self.request_classes[kind]
        obj = self.to_proto3_json(obj, cls.DESCRIPTOR, cls.DESCRIPTOR.name)
        message = cls()
        try:
            self.json_format.ParseDict(obj, message, ignore_unknown_fields=False)
        except self.json_format.ParseError as e:
            raise DecodeError(str(e))
        return kind, message

    def normalize(self, message):
        d = self.json_format.MessageToDict(message, preserving_proto_field_name=True,
                                           use_integers_for_enums=True)
        self.ids_to_hex(d, message.DESCRIPTOR)
        return d

    def ids_to_hex(self, d, descriptor):
        for key, value in d.items():
            field = descriptor.fields_by_name[key]
            if field.full_name in HEX_ID_FIELDS:
                d[key] = base64.b64decode(value).hex()
            elif field.type == self.FD.TYPE_MESSAGE:
                for v in (value if isinstance(value, list) else [value]):
                    if isinstance(v, dict):
                        self.ids_to_hex(v, field.message_type)

    @staticmethod
    def count(kind, message):
        if kind == "traces":
            return sum(len(ss.spans) for rs in message.resource_spans for ss in rs.scope_spans)
        return sum(len(sl.log_records) for rl in message.resource_logs for sl in rl.scope_logs)


def main(argv):
    parser = argparse.ArgumentParser(
        description="Parse OTLP/JSON lines strictly and print them normalized.")
    parser.add_argument("file", nargs="?", default="-",
                        help="file of OTLP/JSON lines; '-' or nothing for stdin")
    parser.add_argument("--kind", choices=("traces", "logs"),
                        help="request type of every line (default: from the top-level key)")
    parser.add_argument("--count", action="store_true",
                        help="print only the number of spans / log records in all lines")
    parser.add_argument("--py-dir", default=os.environ.get("OTELC_OTLP_PY_DIR"),
                        help="directory of the protoc-generated modules "
                             "(default: $OTELC_OTLP_PY_DIR)")
    args = parser.parse_args(argv)

    decoder = Decoder(*load_modules(args.py_dir))
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as f:
                data = f.read()
    except OSError as e:
        sys.stderr.write("otlp_json_decode: %s\n" % e)
        return 2

    # One request per line; the last line may or may not end in '\n'.
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    total = 0
    out = []
    for number, raw in enumerate(lines, 1):
        try:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DecodeError("not UTF-8: %s" % e)
            kind, message = decoder.decode_line(text, args.kind)
        except DecodeError as e:
            # One line per error, whatever the runtime's message looks like.
            sys.stderr.write("line %d: %s\n" % (number, " ".join(str(e).split())))
            return 1
        if args.count:
            total += decoder.count(kind, message)
        else:
            out.append(json.dumps(decoder.normalize(message), sort_keys=True,
                                  separators=(",", ":")))
    if args.count:
        print(total)
    else:
        for line in out:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
