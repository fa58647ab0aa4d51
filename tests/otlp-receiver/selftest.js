#!/usr/bin/env node
// Self-check of receiver.js: starts it as a child, sends traces and logs over
// gRPC, OTLP/HTTP protobuf and OTLP/HTTP JSON (plain and gzip), exercises every
// mode of the control API and TLS/mTLS, and checks what /records holds.
// Exits 0 when everything holds, 1 with the first failure otherwise.
'use strict';

const assert = require('assert/strict');
const childProcess = require('child_process');
const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const HOST = '127.0.0.1';
const PROTO_DIR = path.resolve(__dirname, '..', '..', 'proto');
const RECEIVER = path.join(__dirname, 'receiver.js');

// grpc-js's TLS client passes 127.0.0.1 as the TLS server name: node warns
// (DEP0123); nothing this test can change, so that one warning stays quiet.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.code !== 'DEP0123') process.stderr.write(`${w.name}: ${w.message}\n`);
});

// ---------------------------------------------------------------- protobuf

const root = new protobuf.Root();
root.resolvePath = (origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
root.loadSync([
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
]);
const TraceReq = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const TraceResp = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
const LogsReq = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const LogsResp = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');

// Our own reading of google.rpc.Status / RetryInfo (independent of receiver.js).
const rpcRoot = protobuf.parse(`syntax = "proto3";
  package rpc;
  message Any { string type_url = 1; bytes value = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  message Duration { int64 seconds = 1; int32 nanos = 2; }
  message RetryInfo { Duration retry_delay = 1; }`).root;
const RpcStatus = rpcRoot.lookupType('rpc.Status');
const RetryInfo = rpcRoot.lookupType('rpc.RetryInfo');

// The gRPC client goes through @grpc/proto-loader: another path than the receiver's.
const pkgDef = protoLoader.loadSync(
  [
    'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  ],
  { includeDirs: [PROTO_DIR], longs: String, enums: Number, defaults: false, oneofs: true },
);
const loaded = grpc.loadPackageDefinition(pkgDef);
const TraceService = loaded.opentelemetry.proto.collector.trace.v1.TraceService;
const LogsService = loaded.opentelemetry.proto.collector.logs.v1.LogsService;

// ---------------------------------------------------------------- test data

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';
const PARENT_ID = 'eee19b7ec3c1b173';
const LINK_TRACE = '0102030405060708090a0b0c0d0e0f10';
const LINK_SPAN = 'a1a2a3a4a5a6a7a8';
const BYTES = Buffer.from([0, 1, 2, 250, 255]);
const BIG_INT = '9007199254740993'; // not a double
const T0 = '1544712660000000000';
const T1 = '1544712661000000123';

const resourceJson = {
  attributes: [{ key: 'service.name', value: { stringValue: 'selftest' } }],
  droppedAttributesCount: 0,
};
const scopeJson = { name: 'selftest-scope', version: '1.2.3' };

// OTLP/JSON as the specification writes it: hex ids, integer enums, int64 as strings.
function traceJson(tag) {
  return {
    resourceSpans: [
      {
        resource: resourceJson,
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        scopeSpans: [
          {
            scope: scopeJson,
            schemaUrl: 'https://example.com/scope',
            spans: [
              {
                traceId: TRACE_ID,
                spanId: SPAN_ID,
                parentSpanId: PARENT_ID,
                traceState: 'a=b',
                flags: 0x301,
                name: `span-one-${tag}`,
                kind: 2,
                startTimeUnixNano: T0,
                endTimeUnixNano: T1,
                attributes: [
                  { key: 's', value: { stringValue: 'héllo' } },
                  { key: 'i', value: { intValue: BIG_INT } },
                  { key: 'd', value: { doubleValue: 2.5 } },
                  { key: 'b', value: { boolValue: true } },
                  { key: 'y', value: { bytesValue: BYTES.toString('base64') } },
                  { key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: '7' }] } } },
                  { key: 'k', value: { kvlistValue: { values: [{ key: 'n', value: { boolValue: false } }] } } },
                ],
                events: [{ timeUnixNano: T1, name: 'ev', attributes: [{ key: 'e', value: { intValue: '1' } }] }],
                links: [{ traceId: LINK_TRACE, spanId: LINK_SPAN, flags: 1 }],
                status: { code: 2, message: 'boom' },
              },
              { traceId: TRACE_ID, spanId: 'eee19b7ec3c1b175', name: `span-two-${tag}`, kind: 1 },
            ],
          },
        ],
      },
    ],
  };
}

function logsJson(tag) {
  return {
    resourceLogs: [
      {
        resource: resourceJson,
        scopeLogs: [
          {
            scope: scopeJson,
            logRecords: [
              {
                timeUnixNano: T0,
                observedTimeUnixNano: T1,
                severityNumber: 9,
                severityText: 'INFO',
                body: { stringValue: `log-one-${tag}` },
                attributes: [{ key: 'i', value: { intValue: BIG_INT } }],
                flags: 1,
                traceId: TRACE_ID,
                spanId: SPAN_ID,
                eventName: 'my.event',
              },
              { body: { kvlistValue: { values: [{ key: 'y', value: { bytesValue: BYTES.toString('base64') } }] } } },
            ],
          },
        ],
      },
    ],
  };
}

// The same data as protobufjs objects: ids as bytes.
function toProtoObject(json) {
  const copy = JSON.parse(JSON.stringify(json));
  const fix = (o, keys) => {
    for (const k of keys) if (k in o) o[k] = Buffer.from(o[k], 'hex');
  };
  for (const rs of copy.resourceSpans || []) {
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        fix(s, ['traceId', 'spanId', 'parentSpanId']);
        for (const l of s.links || []) fix(l, ['traceId', 'spanId']);
      }
    }
  }
  for (const rl of copy.resourceLogs || []) {
    for (const sl of rl.scopeLogs) for (const r of sl.logRecords) fix(r, ['traceId', 'spanId']);
  }
  return copy;
}

function encodeProto(signal, json) {
  const type = signal === 'traces' ? TraceReq : LogsReq;
  const object = toProtoObject(json);
  assert.equal(type.verify(type.fromObject(object)), null);
  return Buffer.from(type.encode(type.fromObject(object)).finish());
}

// ---------------------------------------------------------------- helpers

function startReceiver(args = []) {
  const child = childProcess.spawn(process.execPath, [RECEIVER, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.stdout.removeListener('data', onData);
      try {
        const ports = JSON.parse(out.slice(0, nl));
        assert.deepEqual(Object.keys(ports), ['grpc', 'http', 'control']);
        resolve({ child, ports });
      } catch (err) {
        reject(err);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`receiver exited early (${code})`)));
  });
}

function request(options, body) {
  const lib = options.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request({ host: HOST, agent: false, ...options }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.timeoutMs) {
      req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    }
    req.end(body);
  });
}

function makeControl(port) {
  const call = async (method, p, body) => {
    const res = await request({ port, method, path: p }, body === undefined ? undefined : JSON.stringify(body));
    return { status: res.status, json: JSON.parse(res.body.toString()) };
  };
  return {
    get: async (p) => (await call('GET', p)).json,
    post: async (p, body) => {
      const r = await call('POST', p, body);
      assert.equal(r.status, 200, `POST ${p}: ${JSON.stringify(r.json)}`);
      return r.json;
    },
    call,
  };
}

// POSTs an OTLP/HTTP request; encoding 'protobuf' | 'json'.
function postOtlp(port, signal, encoding, payload, { gzip = false, path: p, headers = {}, tls, timeoutMs } = {}) {
  let body = encoding === 'json' ? Buffer.from(JSON.stringify(payload)) : encodeProto(signal, payload);
  const hdrs = {
    'Content-Type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
    ...headers,
  };
  if (gzip) {
    body = zlib.gzipSync(body);
    hdrs['Content-Encoding'] = 'gzip';
  }
  return request(
    { port, method: 'POST', path: p || `/v1/${signal}`, headers: hdrs, timeoutMs, ...(tls || {}) },
    body,
  );
}

function grpcClient(port, signal, { gzip = false, creds } = {}) {
  const Ctor = signal === 'traces' ? TraceService : LogsService;
  const options = gzip ? { 'grpc.default_compression_algorithm': 2 } : {};
  return new Ctor(`${HOST}:${port}`, creds || grpc.credentials.createInsecure(), options);
}

function grpcExport(client, signal, payload, { metadata, deadlineMs = 5000, waitForReady = false } = {}) {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata || {})) md.set(k, v);
  if (waitForReady) md.setOptions({ waitForReady: true });
  return new Promise((resolve) => {
    client.Export(toProtoObject(payload), md, { deadline: Date.now() + deadlineMs }, (err, resp) =>
      resolve({ err, resp }),
    );
  });
}

function retryDelayOf(err) {
  const bins = err.metadata.get('grpc-status-details-bin');
  assert.equal(bins.length, 1, 'grpc-status-details-bin trailer');
  const status = RpcStatus.toObject(RpcStatus.decode(bins[0]), { longs: Number });
  assert.equal(status.code, err.code);
  assert.equal(status.details.length, 1);
  assert.equal(status.details[0].typeUrl, 'type.googleapis.com/google.rpc.RetryInfo');
  const info = RetryInfo.toObject(RetryInfo.decode(status.details[0].value), { longs: Number });
  return info.retryDelay.seconds + (info.retryDelay.nanos || 0) / 1e9;
}

function expectRefused(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST);
    s.once('connect', () => {
      s.destroy();
      reject(new Error(`port ${port} still accepts`));
    });
    s.once('error', (err) => {
      if (err.code === 'ECONNREFUSED') resolve();
      else reject(err);
    });
  });
}

let checks = 0;
async function step(name, fn) {
  await fn();
  checks++;
  process.stdout.write(`ok - ${name}\n`);
}

// ---------------------------------------------------------------- checks

function checkSpan(rec, tag) {
  const s = rec.record;
  assert.equal(s.traceId, TRACE_ID);
  assert.equal(s.spanId, SPAN_ID);
  assert.equal(s.parentSpanId, PARENT_ID);
  assert.equal(s.name, `span-one-${tag}`);
  assert.equal(s.kind, 2);
  assert.equal(s.flags, 0x301);
  assert.equal(s.traceState, 'a=b');
  assert.equal(s.startTimeUnixNano, T0);
  assert.equal(s.endTimeUnixNano, T1);
  const attr = Object.fromEntries(s.attributes.map((a) => [a.key, a.value]));
  assert.equal(attr.s.stringValue, 'héllo');
  assert.equal(attr.i.intValue, BIG_INT);
  assert.equal(attr.d.doubleValue, 2.5);
  assert.equal(attr.b.boolValue, true);
  assert.equal(attr.y.bytesValue, BYTES.toString('base64'));
  assert.equal(attr.a.arrayValue.values[1].intValue, '7');
  assert.equal(attr.k.kvlistValue.values[0].value.boolValue, false);
  assert.equal(s.events[0].name, 'ev');
  assert.equal(s.events[0].timeUnixNano, T1);
  assert.equal(s.links[0].traceId, LINK_TRACE);
  assert.equal(s.links[0].spanId, LINK_SPAN);
  assert.equal(s.status.code, 2);
  assert.equal(s.status.message, 'boom');
  assert.equal(rec.resource.attributes[0].value.stringValue, 'selftest');
  assert.equal(rec.scope.name, 'selftest-scope');
  assert.equal(rec.scope.version, '1.2.3');
  assert.equal(rec.resourceSchemaUrl, 'https://opentelemetry.io/schemas/1.26.0');
  assert.equal(rec.scopeSchemaUrl, 'https://example.com/scope');
}

function checkLog(rec, tag) {
  const r = rec.record;
  assert.equal(r.traceId, TRACE_ID);
  assert.equal(r.spanId, SPAN_ID);
  assert.equal(r.timeUnixNano, T0);
  assert.equal(r.observedTimeUnixNano, T1);
  assert.equal(r.severityNumber, 9);
  assert.equal(r.severityText, 'INFO');
  assert.equal(r.body.stringValue, `log-one-${tag}`);
  assert.equal(r.attributes[0].value.intValue, BIG_INT);
  assert.equal(r.flags, 1);
  assert.equal(r.eventName, 'my.event');
  assert.equal(rec.resource.attributes[0].value.stringValue, 'selftest');
}

// The record, resource and scope only: what must not depend on the transport.
function content(rec, tag) {
  const text = JSON.stringify({ record: rec.record, resource: rec.resource, scope: rec.scope });
  return JSON.parse(text.split(tag).join('TAG'));
}

async function transports(rx, ctl) {
  const { ports } = rx;
  const cases = [];
  for (const gzip of [false, true]) {
    cases.push({ transport: 'grpc', gzip });
    cases.push({ transport: 'http/protobuf', gzip });
    cases.push({ transport: 'http/json', gzip });
  }
  for (const signal of ['traces', 'logs']) {
    const make = signal === 'traces' ? traceJson : logsJson;
    for (const c of cases) {
      const tag = `${c.transport}-${c.gzip ? 'gz' : 'plain'}`;
      await step(`${signal} over ${tag}`, async () => {
        await ctl.post('/reset');
        if (c.transport === 'grpc') {
          const client = grpcClient(ports.grpc, signal, { gzip: c.gzip });
          const { err, resp } = await grpcExport(client, signal, make(tag), { metadata: { 'x-test': 'abc' } });
          client.close();
          assert.equal(err, null, err && err.message);
          assert.equal(resp.partialSuccess, undefined);
        } else {
          const enc = c.transport === 'http/json' ? 'json' : 'protobuf';
          const res = await postOtlp(ports.http, signal, enc, make(tag), { gzip: c.gzip, headers: { 'X-Test': 'abc' } });
          assert.equal(res.status, 200);
          if (enc === 'json') {
            assert.match(res.headers['content-type'], /application\/json/);
            assert.deepEqual(JSON.parse(res.body.toString()), {});
          } else {
            assert.match(res.headers['content-type'], /application\/x-protobuf/);
            const Resp = signal === 'traces' ? TraceResp : LogsResp;
            assert.equal(Resp.decode(res.body).partialSuccess, null);
          }
        }
        const { records } = await ctl.get(`/records?signal=${signal}`);
        assert.equal(records.length, 2);
        for (const r of records) {
          assert.equal(r.signal, signal);
          assert.equal(r.transport, c.transport);
          assert.equal(r.gzip, c.gzip);
          assert.equal(r.headers['x-test'], 'abc');
          if (c.transport === 'grpc') assert.equal(r.method, `/opentelemetry.proto.collector.${signal === 'traces' ? 'trace' : 'logs'}.v1.${signal === 'traces' ? 'TraceService' : 'LogsService'}/Export`);
          else assert.equal(r.path, `/v1/${signal}`);
        }
        if (signal === 'traces') {
          checkSpan(records[0], tag);
          assert.equal(records[1].record.name, `span-two-${tag}`);
        } else {
          checkLog(records[0], tag);
          assert.equal(records[1].record.body.kvlistValue.values[0].value.bytesValue, BYTES.toString('base64'));
        }
        c[signal] = records.map((r) => content(r, tag));
        const counts = await ctl.get('/counts');
        assert.deepEqual(counts[signal], { requests: 1, records: 2, rejected: 0, failed: 0 });
        const { requests } = await ctl.get('/requests');
        assert.equal(requests.length, 1);
        assert.equal(requests[0].outcome, 'ok');
        if (c.transport !== 'grpc') assert.equal(requests[0].contentEncoding, c.gzip ? 'gzip' : '');
      });
    }
    await step(`${signal}: all transports give identical records`, async () => {
      for (const c of cases.slice(1)) assert.deepEqual(c[signal], cases[0][signal], c.transport);
    });
  }
}

async function others(rx, ctl) {
  const { ports } = rx;
  await step('other paths ending in /v1/logs are accepted and recorded', async () => {
    await ctl.post('/reset');
    const res = await postOtlp(ports.http, 'logs', 'protobuf', logsJson('loki'), { path: '/otlp/v1/logs' });
    assert.equal(res.status, 200);
    const { records } = await ctl.get('/records?signal=logs');
    assert.equal(records[0].path, '/otlp/v1/logs');
    const miss = await postOtlp(ports.http, 'logs', 'protobuf', logsJson('x'), { path: '/v1/metrics' });
    assert.equal(miss.status, 404);
  });
  await step('OTLP/JSON with base64 ids and garbage protobuf are 400, not kept', async () => {
    await ctl.post('/reset');
    const bad = traceJson('b64');
    bad.resourceSpans[0].scopeSpans[0].spans[0].traceId = Buffer.from(TRACE_ID, 'hex').toString('base64');
    const res = await postOtlp(ports.http, 'traces', 'json', bad);
    assert.equal(res.status, 400);
    const res2 = await request(
      { port: ports.http, method: 'POST', path: '/v1/traces', headers: { 'Content-Type': 'application/x-protobuf' } },
      Buffer.from([0x0a, 0xff, 0xff, 0xff]),
    );
    assert.equal(res2.status, 400);
    const counts = await ctl.get('/counts');
    assert.deepEqual(counts.traces, { requests: 0, records: 0, rejected: 0, failed: 2 });
    assert.equal((await ctl.get('/records')).records.length, 0);
  });
  await step('/wait answers when the records are there, 408 on timeout', async () => {
    await ctl.post('/reset');
    const waiting = ctl.call('GET', '/wait?signal=logs&records=2&timeout_ms=5000');
    await postOtlp(ports.http, 'logs', 'json', logsJson('w'));
    const r = await waiting;
    assert.equal(r.status, 200);
    assert.equal(r.json.logs.records, 2);
    const late = await ctl.call('GET', '/wait?signal=logs&records=3&timeout_ms=100');
    assert.equal(late.status, 408);
    assert.equal(late.json.logs.records, 2);
  });
}

async function modes(rx, ctl) {
  const { ports } = rx;
  await step('unavailable with retry_after_s and count: HTTP 503 + Retry-After, then ok', async () => {
    await ctl.post('/reset');
    await ctl.post('/mode', { mode: 'unavailable', retry_after_s: 7, count: 1 });
    const res = await postOtlp(ports.http, 'traces', 'protobuf', traceJson('u'));
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '7');
    const status = RpcStatus.decode(res.body);
    assert.equal(status.code, grpc.status.UNAVAILABLE);
    const again = await postOtlp(ports.http, 'traces', 'protobuf', traceJson('u'));
    assert.equal(again.status, 200);
    const counts = await ctl.get('/counts');
    assert.deepEqual(counts.traces, { requests: 1, records: 2, rejected: 0, failed: 1 });
  });
  await step('unavailable over gRPC: UNAVAILABLE with RetryInfo', async () => {
    await ctl.post('/mode', { mode: 'unavailable', retry_after_s: 3 });
    const client = grpcClient(ports.grpc, 'logs');
    const { err } = await grpcExport(client, 'logs', logsJson('u'));
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.equal(retryDelayOf(err), 3);
    await ctl.post('/mode', { mode: 'unavailable' });
    const plain = await grpcExport(client, 'logs', logsJson('u'));
    assert.equal(plain.err.code, grpc.status.UNAVAILABLE);
    assert.equal(plain.err.metadata.get('grpc-status-details-bin').length, 0);
    client.close();
    await ctl.post('/mode', { mode: 'ok' });
  });
  await step('throttle: HTTP 429 + Retry-After, gRPC RESOURCE_EXHAUSTED + RetryInfo', async () => {
    await ctl.post('/mode', { mode: 'throttle', retry_after_s: 2.5 });
    const res = await postOtlp(ports.http, 'logs', 'json', logsJson('t'));
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '3');
    const client = grpcClient(ports.grpc, 'traces');
    const { err } = await grpcExport(client, 'traces', traceJson('t'));
    client.close();
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(retryDelayOf(err), 2.5);
    await ctl.post('/mode', { mode: 'ok' });
  });
  await step('partial: rejected count and message, only the first len-N kept', async () => {
    await ctl.post('/reset');
    await ctl.post('/mode', { mode: 'partial', reject: 1, message: 'one too many' });
    const res = await postOtlp(ports.http, 'traces', 'protobuf', traceJson('p'));
    assert.equal(res.status, 200);
    const resp = TraceResp.toObject(TraceResp.decode(res.body), { longs: String });
    assert.deepEqual(resp.partialSuccess, { rejectedSpans: '1', errorMessage: 'one too many' });
    const resJson = await postOtlp(ports.http, 'logs', 'json', logsJson('p'));
    const body = JSON.parse(resJson.body.toString());
    assert.equal(Number(body.partialSuccess.rejectedLogRecords), 1);
    assert.equal(body.partialSuccess.errorMessage, 'one too many');
    const client = grpcClient(ports.grpc, 'logs');
    const g = await grpcExport(client, 'logs', logsJson('p'));
    client.close();
    assert.equal(g.err, null);
    assert.equal(g.resp.partialSuccess.rejectedLogRecords, '1');
    const counts = await ctl.get('/counts');
    assert.deepEqual(counts.traces, { requests: 1, records: 1, rejected: 1, failed: 0 });
    assert.deepEqual(counts.logs, { requests: 2, records: 2, rejected: 2, failed: 0 });
    const { records } = await ctl.get('/records?signal=traces');
    assert.deepEqual(records.map((r) => r.record.name), ['span-one-p']);
    await ctl.post('/mode', { mode: 'ok' });
  });
  await step('bad: HTTP 400 / gRPC INVALID_ARGUMENT, records not kept', async () => {
    await ctl.post('/reset');
    await ctl.post('/mode', { mode: 'bad' });
    const res = await postOtlp(ports.http, 'traces', 'json', traceJson('bad'));
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body.toString()).code, grpc.status.INVALID_ARGUMENT);
    const client = grpcClient(ports.grpc, 'traces');
    const { err } = await grpcExport(client, 'traces', traceJson('bad'));
    client.close();
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    const counts = await ctl.get('/counts');
    assert.deepEqual(counts.traces, { requests: 0, records: 0, rejected: 0, failed: 2 });
    assert.equal((await ctl.get('/records')).records.length, 0);
    await ctl.post('/mode', { mode: 'ok' });
  });
  await step('hang: clients time out, receiver survives; held request answered when mode changes', async () => {
    await ctl.post('/reset');
    await ctl.post('/mode', { mode: 'hang' });
    await assert.rejects(
      postOtlp(ports.http, 'traces', 'protobuf', traceJson('h'), { timeoutMs: 300 }),
      (err) => err.code === 'TIMEOUT' || err.code === 'ECONNRESET',
    );
    const client = grpcClient(ports.grpc, 'traces');
    const { err } = await grpcExport(client, 'traces', traceJson('h'), { deadlineMs: 300 });
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    const w = await ctl.call('GET', '/wait?signal=traces&failed=2&timeout_ms=3000');
    assert.equal(w.status, 200, 'both abandoned requests counted as failed');
    const { requests } = await ctl.get('/requests?signal=traces');
    assert.deepEqual(requests.map((r) => r.outcome), ['abandoned', 'abandoned']);
    const held = postOtlp(ports.http, 'traces', 'json', traceJson('h'));
    const g = grpcExport(client, 'traces', traceJson('h'));
    const arrived = await ctl.call('GET', '/wait?signal=traces&attempts=4&timeout_ms=3000');
    assert.equal(arrived.status, 200);
    await ctl.post('/mode', { mode: 'ok' });
    assert.equal((await held).status, 200);
    assert.equal((await g).err, null);
    client.close();
    assert.equal((await ctl.get('/counts')).traces.records, 4);
  });
  await step('down: connections refused, open ones closed; up: same ports work again', async () => {
    await ctl.post('/reset');
    const client = grpcClient(ports.grpc, 'logs');
    assert.equal((await grpcExport(client, 'logs', logsJson('d'))).err, null);
    const open = net.connect(ports.http, HOST);
    await new Promise((resolve) => open.once('connect', resolve));
    const closed = new Promise((resolve) => open.once('close', resolve));
    open.on('error', () => {});
    await ctl.post('/mode', { mode: 'down' });
    await closed;
    await expectRefused(ports.http);
    await expectRefused(ports.grpc);
    await assert.rejects(postOtlp(ports.http, 'logs', 'json', logsJson('d')), { code: 'ECONNREFUSED' });
    const { err } = await grpcExport(client, 'logs', logsJson('d'), { deadlineMs: 1000 });
    assert.ok(err && (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED), String(err));
    assert.equal((await ctl.get('/mode')).up, false);
    await ctl.post('/mode', { mode: 'up' });
    assert.equal((await postOtlp(ports.http, 'logs', 'json', logsJson('d'))).status, 200);
    // The old channel is in reconnect backoff: wait for it to connect again.
    const again = await grpcExport(client, 'logs', logsJson('d'), { waitForReady: true });
    assert.equal(again.err, null, again.err && again.err.message);
    const fresh = grpcClient(ports.grpc, 'traces');
    assert.equal((await grpcExport(fresh, 'traces', traceJson('d'))).err, null);
    client.close();
    fresh.close();
    const counts = await ctl.get('/counts');
    assert.equal(counts.logs.requests, 3);
    assert.equal(counts.traces.requests, 1);
  });
  await step('reset forgets records, counts and requests', async () => {
    await ctl.post('/reset');
    assert.deepEqual((await ctl.get('/records')).records, []);
    assert.deepEqual((await ctl.get('/requests')).requests, []);
    assert.deepEqual((await ctl.get('/counts')).logs, { requests: 0, records: 0, rejected: 0, failed: 0 });
  });
}

// ---------------------------------------------------------------- TLS

function openssl(dir, args) {
  childProcess.execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCerts(dir) {
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-days', '2', '-subj', '/CN=selftest CA']);
  for (const who of ['server', 'client']) {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`,
      '-subj', `/CN=selftest ${who}`]);
    openssl(dir, ['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key',
      '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', '-extfile', `${who}.ext`]);
  }
  const read = (f) => fs.readFileSync(path.join(dir, f));
  return { dir, ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') };
}

async function tlsChecks(certs) {
  const file = (f) => path.join(certs.dir, f);
  const serverArgs = ['--tls-cert', file('server.crt'), '--tls-key', file('server.key')];

  const tlsRx = await startReceiver(serverArgs);
  const tlsCtl = makeControl(tlsRx.ports.control);
  await step('TLS: https and grpc with ssl credentials; plain http refused', async () => {
    const tls = { protocol: 'https:', ca: certs.ca };
    assert.equal((await postOtlp(tlsRx.ports.http, 'traces', 'protobuf', traceJson('tls'), { tls })).status, 200);
    const client = grpcClient(tlsRx.ports.grpc, 'logs', { creds: grpc.credentials.createSsl(certs.ca) });
    const { err } = await grpcExport(client, 'logs', logsJson('tls'));
    client.close();
    assert.equal(err, null, err && err.message);
    await assert.rejects(postOtlp(tlsRx.ports.http, 'traces', 'json', traceJson('x'), { timeoutMs: 2000 }));
    const counts = await tlsCtl.get('/counts');
    assert.equal(counts.traces.records, 2);
    assert.equal(counts.logs.records, 2);
  });
  tlsRx.child.kill('SIGTERM');

  const mtlsRx = await startReceiver([...serverArgs, '--tls-ca', file('ca.crt')]);
  const mtlsCtl = makeControl(mtlsRx.ports.control);
  await step('mTLS: a client certificate is required', async () => {
    const withCert = { protocol: 'https:', ca: certs.ca, cert: certs.cert, key: certs.key };
    assert.equal((await postOtlp(mtlsRx.ports.http, 'logs', 'json', logsJson('m'), { tls: withCert })).status, 200);
    await assert.rejects(
      postOtlp(mtlsRx.ports.http, 'logs', 'json', logsJson('m'), { tls: { protocol: 'https:', ca: certs.ca }, timeoutMs: 2000 }),
    );
    const good = grpcClient(mtlsRx.ports.grpc, 'traces', {
      creds: grpc.credentials.createSsl(certs.ca, certs.key, certs.cert),
    });
    const ok = await grpcExport(good, 'traces', traceJson('m'));
    good.close();
    assert.equal(ok.err, null, ok.err && ok.err.message);
    const anon = grpcClient(mtlsRx.ports.grpc, 'traces', { creds: grpc.credentials.createSsl(certs.ca) });
    const refused = await grpcExport(anon, 'traces', traceJson('m'), { deadlineMs: 2000 });
    anon.close();
    assert.ok(refused.err, 'a gRPC client without a certificate must fail');
    const counts = await mtlsCtl.get('/counts');
    assert.equal(counts.logs.requests, 1);
    assert.equal(counts.traces.requests, 1);
  });
  await step('the receiver exits when its stdin reaches EOF', async () => {
    const exited = new Promise((resolve) => mtlsRx.child.once('exit', (code, signal) => resolve({ code, signal })));
    mtlsRx.child.stdin.end();
    assert.deepEqual(await exited, { code: 0, signal: null });
  });
}

// ---------------------------------------------------------------- main

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otlp-receiver-selftest-'));
  const rx = await startReceiver();
  try {
    const ctl = makeControl(rx.ports.control);
    await transports(rx, ctl);
    await others(rx, ctl);
    await modes(rx, ctl);
    await tlsChecks(makeCerts(tmp));
    await step('the receiver exits on SIGTERM', async () => {
      const exited = new Promise((resolve) => rx.child.once('exit', (code) => resolve(code)));
      rx.child.kill('SIGTERM');
      assert.equal(await exited, 0);
    });
  } finally {
    rx.child.kill('SIGTERM');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`selftest: all ${checks} checks passed\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`selftest FAILED: ${err.stack || err}\n`);
    process.exit(1);
  },
);
