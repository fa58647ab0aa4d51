// echo_server.js: a minimal gRPC server on @grpc/grpc-js for the gRPC
// transport's test (test_grpc_transport.c). It serves the two OTLP Export
// methods with raw serializers (the bytes as they came), prints one line of
// JSON per request on stdout (method, body in hex, metadata, how it came on the wire), and answers as
// the request's metadata "x-test-mode" says:
//   ok (default)   OK with the bytes of "x-test-reply-bin"
//   unavailable    UNAVAILABLE with a RetryInfo of "x-test-delay-ms"
//   unavailable-plain  UNAVAILABLE without details
//   exhausted-retry    RESOURCE_EXHAUSTED with a RetryInfo
//   exhausted      RESOURCE_EXHAUSTED without
//   invalid        INVALID_ARGUMENT
//   hang           never
//
// Usage: node echo_server.js plain|tls|mtls [ca.pem server.pem server.key]
// Prints "PORT <n>" once listening on 127.0.0.1; exits when stdin closes.
'use strict';

let grpc;
try {
  grpc = require('@grpc/grpc-js');
} catch (e) {
  process.stdout.write('MISSING @grpc/grpc-js\n');
  process.exit(3);
}
const fs = require('fs');

// google.rpc.Status { code = 1; message = 2; details = 3 (Any) } with one
// Any { type_url = 1; value = 2 } holding RetryInfo { retry_delay = 1
// (Duration { seconds = 1; nanos = 2 }) }, written by hand.
function varint(n) {
  const out = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
function field(number, bytes) {
  return Buffer.concat([varint(number * 8 + 2), varint(bytes.length), bytes]);
}
function statusWithRetryInfo(code, message, delayMs) {
  const duration = Buffer.concat([
    varint(1 * 8), varint(Math.floor(delayMs / 1000)),
    varint(2 * 8), varint((delayMs % 1000) * 1000000),
  ]);
  const retryInfo = field(1, duration);
  const any = Buffer.concat([
    field(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')),
    field(2, retryInfo),
  ]);
  return Buffer.concat([varint(1 * 8), varint(code), field(2, Buffer.from(message)), field(3, any)]);
}

// How the last message came on the wire (compressed flag, encoding):
// grpc-js hides it from handlers, so its decompression step is wrapped. A
// grpc-js without that step leaves it null (the test then says so).
let lastWire = null;
try {
  const si = require('@grpc/grpc-js/build/src/server-interceptors');
  const proto = si.BaseServerInterceptingCall && si.BaseServerInterceptingCall.prototype;
  if (proto && typeof proto.decompressMessage === 'function') {
    const decompress = proto.decompressMessage;
    proto.decompressMessage = function (message, encoding) {
      lastWire = { compressed: message.readUInt8(0) === 1, encoding, length: message.length - 5 };
      return decompress.call(this, message, encoding);
    };
  }
} catch (e) {
  lastWire = null;
}

const hung = [];
function handler(method) {
  return (call, callback) => {
    const md = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) {
      md[k] = Buffer.isBuffer(v) ? v.toString('hex') : v;
    }
    process.stdout.write(JSON.stringify({ method, body: call.request.toString('hex'), metadata: md, wire: lastWire }) + '\n');
    const get = (k) => {
      const v = call.metadata.get(k);
      return v.length > 0 ? v[0] : undefined;
    };
    const mode = get('x-test-mode') || 'ok';
    const delay = Number(get('x-test-delay-ms') || '0');
    const withRetry = (code, details) => {
      const m = new grpc.Metadata();
      m.set('grpc-status-details-bin', statusWithRetryInfo(code, details, delay));
      return { code, details, metadata: m };
    };
    switch (mode) {
      case 'ok':
        callback(null, get('x-test-reply-bin') || Buffer.alloc(0));
        break;
      case 'unavailable':
        callback(withRetry(grpc.status.UNAVAILABLE, 'try later\n(busy)'));
        break;
      case 'unavailable-plain':
        callback({ code: grpc.status.UNAVAILABLE, details: 'going away' });
        break;
      case 'exhausted-retry':
        callback(withRetry(grpc.status.RESOURCE_EXHAUSTED, 'over quota'));
        break;
      case 'exhausted':
        callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'over quota, for good' });
        break;
      case 'invalid':
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'bad\x1b[31mrequest' });
        break;
      case 'hang':
        hung.push(callback);
        break;
      default:
        callback({ code: grpc.status.INTERNAL, details: 'unknown x-test-mode' });
    }
  };
}

const raw = {
  requestStream: false,
  responseStream: false,
  requestSerialize: (b) => b,
  requestDeserialize: (b) => b,
  responseSerialize: (b) => b,
  responseDeserialize: (b) => b,
};
const service = {
  traces: { ...raw, path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export' },
  logs: { ...raw, path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export' },
};

const [mode, caPath, certPath, keyPath] = process.argv.slice(2);
let creds;
if (mode === 'tls' || mode === 'mtls') {
  creds = grpc.ServerCredentials.createSsl(
    fs.readFileSync(caPath),
    [{ cert_chain: fs.readFileSync(certPath), private_key: fs.readFileSync(keyPath) }],
    mode === 'mtls');
} else {
  creds = grpc.ServerCredentials.createInsecure();
}

const server = new grpc.Server();
server.addService(service, {
  traces: handler(service.traces.path),
  logs: handler(service.logs.path),
});
server.bindAsync('127.0.0.1:0', creds, (err, port) => {
  if (err) {
    process.stdout.write('ERROR ' + err.message + '\n');
    process.exit(2);
  }
  // grpc-js 1.10 and later serve once bound (no start()).
  process.stdout.write('PORT ' + port + '\n');
});

process.stdin.resume();
process.stdin.on('end', () => {
  server.forceShutdown();
  process.exit(0);
});
