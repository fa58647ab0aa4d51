#!/usr/bin/env node
// OTLP receiver for the otelc tests: an OTLP implementation that is not ours.
//
// It serves OTLP/gRPC (TraceService/Export, LogsService/Export) through
// @grpc/grpc-js and OTLP/HTTP (POST .../v1/traces, .../v1/logs, protobuf or
// JSON) through node's http, decodes every request with protobufjs from the
// repository's proto/ files into one uniform JSON form, and answers a plain
// HTTP control API that tests use to read what arrived and to make the
// endpoints misbehave (unavailable, throttle, hang, partial success, bad
// request, down/up). See README.md next to this file.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const path = require('path');
const zlib = require('zlib');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');

const HOST = '127.0.0.1';
const MAX_BODY = 64 * 1024 * 1024;
const TO_OBJECT = {
  longs: String,
  enums: Number,
  bytes: String,
  defaults: false,
  arrays: true,
  oneofs: true,
};

// ---------------------------------------------------------------- command line

function usage(message) {
  process.stderr.write(
    `receiver.js: ${message}\n` +
      'usage: node receiver.js [--grpc-port N] [--http-port N] [--control-port N]\n' +
      '                        [--tls-cert F --tls-key F] [--tls-ca F]\n' +
      '                        [--proto-dir D] [--keep-on-eof] [--verbose]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    grpcPort: 0,
    httpPort: 0,
    controlPort: 0,
    tlsCert: null,
    tlsKey: null,
    tlsCa: null,
    protoDir: path.resolve(__dirname, '..', '..', 'proto'),
    keepOnEof: false,
    verbose: false,
  };
  const valued = {
    '--grpc-port': 'grpcPort',
    '--http-port': 'httpPort',
    '--control-port': 'controlPort',
    '--tls-cert': 'tlsCert',
    '--tls-key': 'tlsKey',
    '--tls-ca': 'tlsCa',
    '--proto-dir': 'protoDir',
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--keep-on-eof') opts.keepOnEof = true;
    else if (arg === '--verbose') opts.verbose = true;
    else if (arg === '--help' || arg === '-h') usage('help');
    else if (valued[arg]) {
      if (value === null) {
        if (i + 1 >= argv.length) usage(`${arg} needs a value`);
        value = argv[++i];
      }
      opts[valued[arg]] = value;
    } else usage(`unknown argument ${arg}`);
  }
  for (const key of ['grpcPort', 'httpPort', 'controlPort']) {
    const n = Number(opts[key]);
    if (!Number.isInteger(n) || n < 0 || n > 65535) usage(`bad port ${opts[key]}`);
    opts[key] = n;
  }
  if (!!opts.tlsCert !== !!opts.tlsKey) usage('--tls-cert and --tls-key go together');
  if (opts.tlsCa && !opts.tlsCert) usage('--tls-ca needs --tls-cert and --tls-key');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

function log(message) {
  if (opts.verbose) process.stderr.write(`otlp-receiver: ${message}\n`);
}

// ---------------------------------------------------------------- protobuf

function loadOtlp(protoDir) {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) =>
    path.isAbsolute(target) ? target : path.join(protoDir, target);
  root.loadSync(
    [
      'opentelemetry/proto/collector/trace/v1/trace_service.proto',
      'opentelemetry/proto/collector/logs/v1/logs_service.proto',
    ],
    { keepCase: false },
  );
  root.resolveAll();
  return root;
}

// google.rpc.Status and google.rpc.RetryInfo (with google.protobuf.Any and
// Duration): the gRPC error details and the OTLP/HTTP error body.
const RPC_PROTO = [
  `syntax = "proto3";
   package google.protobuf;
   message Any { string type_url = 1; bytes value = 2; }
   message Duration { int64 seconds = 1; int32 nanos = 2; }`,
  `syntax = "proto3";
   package google.rpc;
   import "google/protobuf/any.proto";
   message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
   message RetryInfo { google.protobuf.Duration retry_delay = 1; }`,
];

function loadRpc() {
  const root = new protobuf.Root();
  for (const source of RPC_PROTO) protobuf.parse(source, root, { keepCase: false });
  root.resolveAll();
  return {
    Status: root.lookupType('google.rpc.Status'),
    RetryInfo: root.lookupType('google.rpc.RetryInfo'),
  };
}

const otlp = loadOtlp(opts.protoDir);
const rpc = loadRpc();

const SIGNALS = {
  traces: {
    service: 'opentelemetry.proto.collector.trace.v1.TraceService',
    request: otlp.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    response: otlp.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    resourceField: 'resourceSpans',
    scopeField: 'scopeSpans',
    recordField: 'spans',
    rejectedField: 'rejectedSpans',
    suffix: '/v1/traces',
  },
  logs: {
    service: 'opentelemetry.proto.collector.logs.v1.LogsService',
    request: otlp.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    response: otlp.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
    resourceField: 'resourceLogs',
    scopeField: 'scopeLogs',
    recordField: 'logRecords',
    rejectedField: 'rejectedLogRecords',
    suffix: '/v1/logs',
  },
};
for (const sig of Object.values(SIGNALS)) {
  const service = otlp.lookupService(sig.service);
  if (!service.methods.Export) throw new Error(`${sig.service} has no Export method`);
  sig.grpcPath = `/${sig.service}/Export`;
}

// The fields holding trace and span ids: hex in OTLP/JSON and in our records.
function forEachIdHolder(signal, record, fn) {
  if (signal === 'traces') {
    fn(record, ['traceId', 'spanId', 'parentSpanId']);
    if (Array.isArray(record.links)) {
      for (const link of record.links) if (link && typeof link === 'object') fn(link, ['traceId', 'spanId']);
    }
  } else {
    fn(record, ['traceId', 'spanId']);
  }
}

function forEachRecord(signal, request, fn) {
  const sig = SIGNALS[signal];
  const resources = request[sig.resourceField];
  if (!Array.isArray(resources)) return;
  for (const rs of resources) {
    if (!rs || !Array.isArray(rs[sig.scopeField])) continue;
    for (const ss of rs[sig.scopeField]) {
      if (!ss || !Array.isArray(ss[sig.recordField])) continue;
      for (const record of ss[sig.recordField]) {
        if (record && typeof record === 'object') fn(record, rs, ss);
      }
    }
  }
}

// OTLP/JSON carries ids as hex: turn them into bytes before fromObject.
function hexIdsToBytes(signal, request) {
  forEachRecord(signal, request, (record) =>
    forEachIdHolder(signal, record, (holder, keys) => {
      for (const key of keys) {
        if (!(key in holder)) continue;
        const hex = holder[key];
        if (typeof hex !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(hex)) {
          throw new Error(`${key} is not a hex string: ${JSON.stringify(hex)}`);
        }
        holder[key] = Buffer.from(hex, 'hex');
      }
    }),
  );
}

// Decodes a request body (protobuf or OTLP/JSON) into the uniform object.
function decodeRequest(signal, body, json) {
  const type = SIGNALS[signal].request;
  let message;
  if (json) {
    const parsed = JSON.parse(body.toString('utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('the JSON body is not an object');
    }
    hexIdsToBytes(signal, parsed);
    message = type.fromObject(parsed);
  } else {
    message = type.decode(body);
  }
  return type.toObject(message, TO_OBJECT);
}

function b64ToHex(value) {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value;
}

// Flattens a decoded request into one entry per span or log record.
function flattenRecords(signal, request, meta) {
  const out = [];
  forEachRecord(signal, request, (record, rs, ss) => {
    forEachIdHolder(signal, record, (holder, keys) => {
      for (const key of keys) if (key in holder) holder[key] = b64ToHex(holder[key]);
    });
    out.push({
      signal,
      record,
      resource: rs.resource === undefined ? null : rs.resource,
      scope: ss.scope === undefined ? null : ss.scope,
      resourceSchemaUrl: rs.schemaUrl === undefined ? '' : rs.schemaUrl,
      scopeSchemaUrl: ss.schemaUrl === undefined ? '' : ss.schemaUrl,
      ...meta,
    });
  });
  return out;
}

function encodeResponse(signal, rejected, message, json) {
  const sig = SIGNALS[signal];
  const object = {};
  if (rejected !== null) {
    object.partialSuccess = { [sig.rejectedField]: rejected, errorMessage: message || '' };
  }
  const response = sig.response.fromObject(object);
  if (json) return Buffer.from(JSON.stringify(sig.response.toObject(response, TO_OBJECT)));
  return Buffer.from(sig.response.encode(response).finish());
}

function retryDelay(seconds) {
  const whole = Math.floor(seconds);
  return { seconds: whole, nanos: Math.round((seconds - whole) * 1e9) };
}

// google.rpc.Status with an optional RetryInfo detail.
function rpcStatus(code, message, retryAfterS) {
  const status = { code, message, details: [] };
  if (retryAfterS !== undefined && retryAfterS !== null) {
    const info = rpc.RetryInfo.encode(
      rpc.RetryInfo.fromObject({ retryDelay: retryDelay(retryAfterS) }),
    ).finish();
    status.details.push({ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: info });
  }
  return status;
}

function rpcStatusBytes(status) {
  return Buffer.from(rpc.Status.encode(rpc.Status.fromObject(status)).finish());
}

function rpcStatusJson(status, retryAfterS) {
  const object = { code: status.code, message: status.message };
  if (status.details.length) {
    object.details = [
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterS}s` },
    ];
  }
  return Buffer.from(JSON.stringify(object));
}

// ---------------------------------------------------------------- state

function emptyCounts() {
  return { requests: 0, records: 0, rejected: 0, failed: 0 };
}

const state = {
  mode: { mode: 'ok' },
  up: true,
  records: [],
  requests: [],
  counts: { traces: emptyCounts(), logs: emptyCounts() },
  held: new Set(), // requests held open by mode "hang"
  waiters: new Set(), // pending GET /wait
  nextSeq: 1,
};

const MODES = new Set(['ok', 'unavailable', 'throttle', 'hang', 'partial', 'bad']);

// The behaviour for the next request; a mode with "count" runs out.
function takeMode() {
  const mode = state.mode;
  if (mode.mode !== 'ok' && mode.remaining !== undefined) {
    mode.remaining--;
    if (mode.remaining <= 0) state.mode = { mode: 'ok' };
  }
  return mode;
}

function countsSnapshot() {
  return JSON.parse(JSON.stringify(state.counts));
}

function attempts(signal) {
  let n = 0;
  for (const entry of state.requests) if (entry.signal === signal) n++;
  return n;
}

function heldOf(signal) {
  let n = 0;
  for (const pending of state.held) if (pending.signal === signal) n++;
  return n;
}

function waiterSatisfied(waiter) {
  const counts = state.counts[waiter.signal];
  for (const [key, want] of Object.entries(waiter.want)) {
    const have =
      key === 'attempts' ? attempts(waiter.signal) : key === 'held' ? heldOf(waiter.signal) : counts[key];
    if (have < want) return false;
  }
  return true;
}

function checkWaiters() {
  for (const waiter of state.waiters) {
    if (waiterSatisfied(waiter)) waiter.finish(200);
  }
}

// ---------------------------------------------------------------- export handling
//
// A pending export is transport-neutral: { entry, signal, records,
// ok(rejected, message), fail(kind, mode), gone() }; settle() applies the mode.

const ERRORS = {
  unavailable: { http: 503, grpc: grpc.status.UNAVAILABLE, text: 'unavailable (receiver mode)' },
  throttle: { http: 429, grpc: grpc.status.RESOURCE_EXHAUSTED, text: 'throttled (receiver mode)' },
  bad: { http: 400, grpc: grpc.status.INVALID_ARGUMENT, text: 'bad request (receiver mode)' },
  invalid: { http: 400, grpc: grpc.status.INVALID_ARGUMENT, text: 'request does not decode' },
};

function settle(pending) {
  if (pending.gone()) return;
  const mode = takeMode();
  const { entry, signal, records } = pending;
  const counts = state.counts[signal];
  switch (mode.mode) {
    case 'hang':
      entry.outcome = 'hang';
      state.held.add(pending);
      log(`${entry.transport} ${signal}: held (hang)`);
      checkWaiters();
      return;
    case 'unavailable':
    case 'throttle':
    case 'bad':
      entry.outcome = mode.mode;
      counts.failed++;
      pending.fail(mode.mode, mode);
      break;
    case 'partial': {
      const rejected = Math.min(Math.max(0, mode.reject || 0), records.length);
      const kept = records.slice(0, records.length - rejected);
      state.records.push(...kept);
      counts.requests++;
      counts.records += kept.length;
      counts.rejected += rejected;
      entry.outcome = 'partial';
      entry.rejected = rejected;
      pending.ok(rejected, mode.message === undefined ? '' : String(mode.message));
      break;
    }
    default:
      state.records.push(...records);
      counts.requests++;
      counts.records += records.length;
      entry.outcome = 'ok';
      pending.ok(null, '');
  }
  log(`${entry.transport} ${signal}: ${records.length} records, ${entry.outcome}`);
  checkWaiters();
}

function abandon(pending) {
  if (!state.held.delete(pending)) return;
  pending.entry.outcome = 'abandoned';
  state.counts[pending.signal].failed++;
  log(`${pending.entry.transport} ${pending.signal}: client gave up`);
  checkWaiters();
}

function releaseHeld() {
  const held = [...state.held];
  state.held.clear();
  for (const pending of held) settle(pending);
}

function newEntry(fields) {
  const entry = { seq: state.nextSeq++, time: new Date().toISOString(), ...fields, outcome: 'received' };
  state.requests.push(entry);
  return entry;
}

// ---------------------------------------------------------------- OTLP/HTTP

function httpSignal(pathname) {
  for (const [signal, sig] of Object.entries(SIGNALS)) if (pathname.endsWith(sig.suffix)) return signal;
  return null;
}

function sendPlain(res, status, text, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${text}\n`);
}

function onOtlpHttp(req, res) {
  req.on('error', () => {});
  res.on('error', () => {});
  const chunks = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('end', () => handleOtlpHttp(req, res, Buffer.concat(chunks), tooLarge));
}

function handleOtlpHttp(req, res, raw, tooLarge) {
  const pathname = req.url.split('?')[0];
  const signal = httpSignal(pathname);
  const contentType = req.headers['content-type'] || '';
  const contentEncoding = req.headers['content-encoding'] || '';
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  const json = mediaType === 'application/json';
  const encoding = contentEncoding.trim().toLowerCase();
  const gzip = encoding === 'gzip';
  const entry = newEntry({
    signal,
    transport: json ? 'http/json' : 'http/protobuf',
    method: req.method,
    path: pathname,
    contentType,
    contentEncoding,
    gzip,
    headers: { ...req.headers },
    bytes: raw.length,
  });
  const reject = (outcome, status, text) => {
    entry.outcome = outcome;
    entry.status = status;
    entry.error = text;
    if (signal) state.counts[signal].failed++;
    sendPlain(res, status, text);
    checkWaiters();
  };
  if (!signal) return reject('not-found', 404, `no OTLP signal at ${pathname}`);
  if (req.method !== 'POST') return reject('bad-method', 405, 'OTLP/HTTP takes POST');
  if (!json && mediaType !== 'application/x-protobuf') {
    return reject('unsupported-media-type', 415, `unsupported Content-Type ${contentType}`);
  }
  if (tooLarge) return reject('too-large', 413, 'request body too large');
  if (encoding !== '' && encoding !== 'identity' && !gzip) {
    return reject('unsupported-encoding', 415, `unsupported Content-Encoding ${contentEncoding}`);
  }
  let request;
  let records;
  try {
    const body = gzip ? zlib.gunzipSync(raw, { maxOutputLength: MAX_BODY }) : raw;
    request = decodeRequest(signal, body, json);
    records = flattenRecords(signal, request, {
      transport: entry.transport,
      gzip,
      path: pathname,
      headers: entry.headers,
      request: entry.seq,
    });
  } catch (err) {
    return failHttp(res, entry, signal, 'invalid', {}, json, err.message);
  }
  entry.records = records.length;

  let finished = false;
  const pending = {
    entry,
    signal,
    records,
    gone: () => res.destroyed || finished,
    ok(rejected, message) {
      finished = true;
      entry.status = 200;
      const body = encodeResponse(signal, rejected, message, json);
      res.writeHead(200, {
        'Content-Type': json ? 'application/json' : 'application/x-protobuf',
        'Content-Length': body.length,
      });
      res.end(body);
    },
    fail(kind, mode) {
      finished = true;
      failHttp(res, entry, null, kind, mode, json);
    },
  };
  res.on('close', () => {
    if (!finished) abandon(pending);
  });
  settle(pending);
}

// Answers an OTLP/HTTP error: google.rpc.Status in the request's encoding.
function failHttp(res, entry, signal, kind, mode, json, detail) {
  const error = ERRORS[kind];
  const retryAfterS = kind === 'unavailable' || kind === 'throttle' ? mode.retry_after_s : undefined;
  const message = detail ? `${error.text}: ${detail}` : mode.message ? String(mode.message) : error.text;
  const status = rpcStatus(error.grpc, message, retryAfterS);
  const body = json ? rpcStatusJson(status, retryAfterS) : rpcStatusBytes(status);
  const headers = {
    'Content-Type': json ? 'application/json' : 'application/x-protobuf',
    'Content-Length': body.length,
  };
  if (retryAfterS !== undefined && retryAfterS !== null) {
    headers['Retry-After'] = String(Math.ceil(retryAfterS));
  }
  entry.status = error.http;
  entry.outcome = entry.outcome === 'received' || kind === 'invalid' ? kind : entry.outcome;
  if (detail) entry.error = detail;
  if (signal) {
    state.counts[signal].failed++;
    checkWaiters();
  }
  if (res.headersSent || res.destroyed) return;
  res.writeHead(error.http, headers);
  res.end(body);
}

// ---------------------------------------------------------------- OTLP/gRPC

// Requests reach the handler as raw bytes (decoded by us, as for HTTP); the
// interceptor adds whether the message came compressed. grpc-js strips
// grpc-encoding from the metadata, so it is read from the base call.
function compressionInterceptor(methodDescriptor, call) {
  const info = { encoding: call.incomingEncoding || 'identity', compressed: false };
  if (typeof call.decompressMessage === 'function') {
    const decompress = call.decompressMessage.bind(call);
    call.decompressMessage = (message, encoding) => {
      if (encoding && encoding !== 'identity') info.compressed = true;
      return decompress(message, encoding);
    };
  }
  return new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({
        onReceiveMessage(message, nextMessage) {
          nextMessage({ bytes: message, encoding: info.encoding, compressed: info.compressed });
        },
      });
    },
  });
}

function metadataObject(metadata) {
  const out = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    out[key.toLowerCase()] = Buffer.isBuffer(value) ? value.toString('base64') : value;
  }
  return out;
}

function grpcHandler(signal) {
  const sig = SIGNALS[signal];
  return (call, callback) => {
    const { bytes, encoding, compressed } = call.request;
    const headers = metadataObject(call.metadata);
    const entry = newEntry({
      signal,
      transport: 'grpc',
      method: sig.grpcPath,
      contentType: 'application/grpc',
      contentEncoding: encoding,
      gzip: compressed,
      headers,
      bytes: bytes.length,
    });
    let records;
    try {
      records = flattenRecords(signal, decodeRequest(signal, bytes, false), {
        transport: 'grpc',
        gzip: compressed,
        method: sig.grpcPath,
        headers,
        request: entry.seq,
      });
    } catch (err) {
      entry.outcome = 'invalid';
      entry.status = grpc.status.INVALID_ARGUMENT;
      entry.error = err.message;
      state.counts[signal].failed++;
      checkWaiters();
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `${ERRORS.invalid.text}: ${err.message}` });
      return;
    }
    entry.records = records.length;
    let finished = false;
    let cancelled = false;
    const pending = {
      entry,
      signal,
      records,
      gone: () => cancelled || finished,
      ok(rejected, message) {
        finished = true;
        entry.status = grpc.status.OK;
        callback(null, encodeResponse(signal, rejected, message, false));
      },
      fail(kind, mode) {
        finished = true;
        const error = ERRORS[kind];
        const retryAfterS = kind === 'bad' ? undefined : mode.retry_after_s;
        const message = mode.message ? String(mode.message) : error.text;
        const metadata = new grpc.Metadata();
        if (retryAfterS !== undefined && retryAfterS !== null) {
          metadata.set(
            'grpc-status-details-bin',
            rpcStatusBytes(rpcStatus(error.grpc, message, retryAfterS)),
          );
        }
        entry.status = error.grpc;
        callback({ code: error.grpc, details: message, metadata });
      },
    };
    call.on('cancelled', () => {
      cancelled = true;
      if (!finished) abandon(pending);
    });
    settle(pending);
  };
}

const identity = (x) => x;
function serviceDefinition(signal) {
  return {
    Export: {
      path: SIGNALS[signal].grpcPath,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
      originalName: 'Export',
    },
  };
}

// ---------------------------------------------------------------- listeners

const tls = opts.tlsCert
  ? {
      cert: fs.readFileSync(opts.tlsCert),
      key: fs.readFileSync(opts.tlsKey),
      ca: opts.tlsCa ? fs.readFileSync(opts.tlsCa) : null,
    }
  : null;

const listeners = { grpc: null, http: null };
const ports = { grpc: opts.grpcPort, http: opts.httpPort, control: opts.controlPort };

function grpcCredentials() {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.ca,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    !!tls.ca,
  );
}

function startGrpc(port) {
  return new Promise((resolve, reject) => {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': MAX_BODY,
      interceptors: [compressionInterceptor],
    });
    server.addService(serviceDefinition('traces'), { Export: grpcHandler('traces') });
    server.addService(serviceDefinition('logs'), { Export: grpcHandler('logs') });
    server.bindAsync(`${HOST}:${port}`, grpcCredentials(), (err, bound) => {
      if (err) return reject(err);
      listeners.grpc = server;
      resolve(bound);
    });
  });
}

function startHttp(port) {
  return new Promise((resolve, reject) => {
    const server = tls
      ? https.createServer(
          {
            cert: tls.cert,
            key: tls.key,
            ca: tls.ca || undefined,
            requestCert: !!tls.ca,
            rejectUnauthorized: !!tls.ca,
          },
          onOtlpHttp,
        )
      : http.createServer(onOtlpHttp);
    server.keepAliveTimeout = 30000;
    server.on('clientError', (err, socket) => socket.destroy());
    server.on('tlsClientError', () => {});
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.removeListener('error', reject);
      server.on('error', (err) => log(`http server: ${err.message}`));
      listeners.http = server;
      resolve(server.address().port);
    });
  });
}

// Resolves once nothing accepts on the port any more.
function awaitRefused(port) {
  return new Promise((resolve) => {
    const deadline = Date.now() + 5000;
    const probe = () => {
      const socket = net.connect(port, HOST);
      socket.once('connect', () => {
        socket.destroy();
        if (Date.now() > deadline) resolve();
        else setTimeout(probe, 5);
      });
      socket.once('error', () => resolve());
    };
    probe();
  });
}

async function otlpDown() {
  if (!state.up) return;
  state.up = false;
  const grpcServer = listeners.grpc;
  const httpServer = listeners.http;
  listeners.grpc = null;
  listeners.http = null;
  grpcServer.forceShutdown();
  await new Promise((resolve) => {
    httpServer.close(() => resolve());
    httpServer.closeAllConnections();
  });
  await awaitRefused(ports.grpc);
  await awaitRefused(ports.http);
  log('OTLP listeners down');
}

async function otlpUp() {
  if (state.up) return;
  await startGrpc(ports.grpc);
  await startHttp(ports.http);
  state.up = true;
  log('OTLP listeners up');
}

// ---------------------------------------------------------------- control API

function sendJson(res, status, object) {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(`${JSON.stringify(object)}\n`);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function parseMode(body) {
  if (!body || typeof body !== 'object') throw new Error('the body is not a JSON object');
  const mode = body.mode;
  if (mode !== 'up' && mode !== 'down' && !MODES.has(mode)) throw new Error(`unknown mode ${mode}`);
  const out = { mode };
  if (body.retry_after_s !== undefined && body.retry_after_s !== null) {
    const s = Number(body.retry_after_s);
    if (!Number.isFinite(s) || s < 0) throw new Error('retry_after_s must be a number >= 0');
    out.retry_after_s = s;
  }
  if (body.count !== undefined && body.count !== null) {
    const n = Number(body.count);
    if (!Number.isInteger(n) || n < 1) throw new Error('count must be an integer >= 1');
    out.remaining = n;
  }
  if (body.reject !== undefined) {
    const n = Number(body.reject);
    if (!Number.isInteger(n) || n < 0) throw new Error('reject must be an integer >= 0');
    out.reject = n;
  }
  if (body.message !== undefined) out.message = String(body.message);
  return out;
}

function parseSignal(query, res) {
  const signal = query.get('signal');
  if (signal === null) return undefined;
  if (!SIGNALS[signal]) {
    sendJson(res, 400, { error: `unknown signal ${signal}` });
    return null;
  }
  return signal;
}

async function onControl(req, res) {
  req.on('error', () => {});
  res.on('error', () => {});
  const url = new URL(req.url, `http://${HOST}`);
  const route = `${req.method} ${url.pathname}`;
  try {
    switch (route) {
      case 'GET /records': {
        const signal = parseSignal(url.searchParams, res);
        if (signal === null) return;
        const records = signal ? state.records.filter((r) => r.signal === signal) : state.records;
        return sendJson(res, 200, { records });
      }
      case 'GET /counts':
        return sendJson(res, 200, countsSnapshot());
      case 'GET /requests': {
        const signal = parseSignal(url.searchParams, res);
        if (signal === null) return;
        const requests = signal ? state.requests.filter((r) => r.signal === signal) : state.requests;
        return sendJson(res, 200, { requests });
      }
      case 'GET /mode':
        return sendJson(res, 200, { ...state.mode, up: state.up, held: state.held.size });
      case 'POST /mode': {
        let mode;
        try {
          mode = parseMode(await readJson(req));
        } catch (err) {
          return sendJson(res, 400, { error: err.message });
        }
        if (mode.mode === 'down') await otlpDown();
        else if (mode.mode === 'up') await otlpUp();
        else {
          state.mode = mode;
          releaseHeld();
        }
        log(`mode ${JSON.stringify(mode)}`);
        return sendJson(res, 200, { ...state.mode, up: state.up });
      }
      case 'POST /reset':
        await readJson(req).catch(() => null);
        state.records = [];
        state.requests = [];
        state.counts = { traces: emptyCounts(), logs: emptyCounts() };
        return sendJson(res, 200, countsSnapshot());
      case 'GET /wait':
        return waitFor(url.searchParams, req, res);
      default:
        return sendJson(res, 404, { error: `no route ${route}` });
    }
  } catch (err) {
    return sendJson(res, 500, { error: err.message });
  }
}

function waitFor(query, req, res) {
  const signal = query.get('signal');
  if (!SIGNALS[signal]) return sendJson(res, 400, { error: 'signal=traces|logs is required' });
  const want = {};
  for (const key of ['records', 'requests', 'rejected', 'failed', 'attempts', 'held']) {
    if (!query.has(key)) continue;
    const n = Number(query.get(key));
    if (!Number.isInteger(n) || n < 0) return sendJson(res, 400, { error: `bad ${key}` });
    want[key] = n;
  }
  const timeoutMs = query.has('timeout_ms') ? Number(query.get('timeout_ms')) : 10000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) return sendJson(res, 400, { error: 'bad timeout_ms' });
  const waiter = {
    signal,
    want,
    finish(status) {
      if (!state.waiters.delete(waiter)) return;
      clearTimeout(waiter.timer);
      sendJson(res, status, countsSnapshot());
    },
  };
  state.waiters.add(waiter);
  waiter.timer = setTimeout(() => waiter.finish(408), timeoutMs);
  res.on('close', () => {
    state.waiters.delete(waiter);
    clearTimeout(waiter.timer);
  });
  if (waiterSatisfied(waiter)) waiter.finish(200);
}

function startControl(port) {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      onControl(req, res);
    });
    server.on('clientError', (err, socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, HOST, () => resolve(server.address().port));
  });
}

// ---------------------------------------------------------------- main

function exit(code) {
  try {
    if (listeners.grpc) listeners.grpc.forceShutdown();
  } catch (err) {
    // leaving anyway
  }
  process.exit(code);
}

async function main() {
  process.on('SIGTERM', () => exit(0));
  process.on('SIGINT', () => exit(0));
  process.on('uncaughtException', (err) => {
    process.stderr.write(`otlp-receiver: uncaught: ${err.stack || err}\n`);
  });
  if (!opts.keepOnEof) {
    process.stdin.on('end', () => exit(0));
    process.stdin.on('error', () => exit(0));
    process.stdin.resume();
  }
  ports.grpc = await startGrpc(ports.grpc);
  ports.http = await startHttp(ports.http);
  ports.control = await startControl(ports.control);
  process.stdout.write(`${JSON.stringify(ports)}\n`);
}

main().catch((err) => {
  process.stderr.write(`otlp-receiver: ${err.message}\n`);
  process.exit(1);
});
