'use strict';
// w3c_server.js: an HTTP server on 127.0.0.1 that reads and writes trace
// context with the official OpenTelemetry JS propagators
// (W3CTraceContextPropagator and W3CBaggagePropagator of @opentelemetry/core),
// an implementation of W3C Trace Context and W3C Baggage that is not otelc's.
//
//   node w3c_server.js [port]        (port 0 or none: a free one)
//
// Prints "ready <port>" on stdout once listening. Endpoints:
//   GET /echo         answers what the propagators extracted from the request:
//                     {"valid", "trace_id", "span_id", "trace_flags", "is_remote",
//                      "tracestate", "baggage": {key: {"value", "metadata"}},
//                      "headers": {traceparent, tracestate, baggage}}
//   GET /call?url=U   makes a context of its own (random ids, a tracestate of
//                     several members, baggage with characters that need
//                     percent-encoding and with properties), injects it into
//                     a GET of U, and answers {"trace_id", "span_id",
//                     "trace_flags", "tracestate", "baggage", "injected":
//                     {headers}, "status", "body"}.
// SIGTERM or SIGINT stops it, and so does the end of stdin (a test that
// dies leaves no server behind).
const http = require('node:http');
const crypto = require('node:crypto');
const api = require('@opentelemetry/api');
const core = require('@opentelemetry/core');

const traceProp = new core.W3CTraceContextPropagator();
const baggageProp = new core.W3CBaggagePropagator();

function extract(headers) {
  let ctx = traceProp.extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter);
  ctx = baggageProp.extract(ctx, headers, api.defaultTextMapGetter);
  const sc = api.trace.getSpanContext(ctx);
  const bag = api.propagation.getBaggage(ctx);
  const entries = {};
  if (bag) {
    for (const [k, e] of bag.getAllEntries()) {
      entries[k] = { value: e.value, metadata: e.metadata ? e.metadata.toString() : null };
    }
  }
  return {
    valid: sc !== undefined && api.isSpanContextValid(sc),
    trace_id: sc ? sc.traceId : null,
    span_id: sc ? sc.spanId : null,
    trace_flags: sc ? sc.traceFlags : null,
    is_remote: sc ? sc.isRemote === true : null,
    tracestate: sc && sc.traceState ? sc.traceState.serialize() : null,
    baggage: entries,
    headers: {
      traceparent: headers.traceparent || null,
      tracestate: headers.tracestate || null,
      baggage: headers.baggage || null,
    },
  };
}

// The context /call sends: what otelc's server side must read back.
function ownContext() {
  const sc = {
    traceId: crypto.randomBytes(16).toString('hex'),
    spanId: crypto.randomBytes(8).toString('hex'),
    traceFlags: api.TraceFlags.SAMPLED,
    isRemote: false,
    traceState: new core.TraceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,tenant1@vendor=x-1'),
  };
  const bag = api.propagation.createBaggage({
    'correlation.id': { value: 'js order 7' },
    user: { value: 'Jos\u00e9 \u2713' },
    note: { value: 'a,b;c=d%', metadata: api.baggageEntryMetadataFromString('prop1;k=v') },
  });
  let ctx = api.trace.setSpanContext(api.ROOT_CONTEXT, sc);
  ctx = api.propagation.setBaggage(ctx, bag);
  return { sc, ctx };
}

function answer(res, code, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function call(target, res) {
  const { sc, ctx } = ownContext();
  const headers = {};
  traceProp.inject(ctx, headers, api.defaultTextMapSetter);
  baggageProp.inject(ctx, headers, api.defaultTextMapSetter);
  const req = http.get(target, { headers }, (r) => {
    let body = '';
    r.setEncoding('utf8');
    r.on('data', (d) => { body += d; });
    r.on('end', () => answer(res, 200, {
      trace_id: sc.traceId,
      span_id: sc.spanId,
      trace_flags: sc.traceFlags,
      tracestate: sc.traceState.serialize(),
      injected: headers,
      status: r.statusCode,
      body,
    }));
  });
  req.on('error', (e) => answer(res, 502, { error: String(e) }));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/echo') {
    req.resume();
    req.on('end', () => answer(res, 200, extract(req.headers)));
  } else if (url.pathname === '/call' && url.searchParams.get('url')) {
    call(url.searchParams.get('url'), res);
  } else {
    answer(res, 404, { error: 'unknown path' });
  }
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
