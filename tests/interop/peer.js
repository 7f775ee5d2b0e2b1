// An independent OCPP charger for interop tests: mikuso/ocpp-rpc in strict mode, which validates
// every request and response (ours included) against the official OCPP JSON schemas.
// Usage: node peer.js ENDPOINT IDENTITY PROTOCOL   (prints one JSON object per line)
'use strict';
const { RPCClient } = require('ocpp-rpc');

const [endpoint, identity, protocol] = process.argv.slice(2);
const v16 = protocol === 'ocpp1.6';
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const now = () => new Date().toISOString();

const cli = new RPCClient({ endpoint, identity, protocols: [protocol], strictMode: true,
                            reconnect: false, callTimeoutMs: 10000 });
const received = [];
const ok16 = { Reset: 'Accepted', ChangeConfiguration: 'Accepted', ClearCache: 'Accepted',
               TriggerMessage: 'Accepted', SetChargingProfile: 'Accepted',
               ClearChargingProfile: 'Accepted', RemoteStartTransaction: 'Accepted',
               RemoteStopTransaction: 'Accepted' };
const ok201 = { Reset: 'Accepted', TriggerMessage: 'Accepted', SetChargingProfile: 'Accepted',
                ClearChargingProfile: 'Accepted', RequestStartTransaction: 'Accepted',
                RequestStopTransaction: 'Accepted' };
cli.handle(({ method, params }) => {
  received.push(method);
  out({ received: method, params });
  if (v16 && method === 'GetConfiguration') return { configurationKey: [], unknownKey: params.key || [] };
  if (!v16 && method === 'GetVariables') {
    return { getVariableResult: params.getVariableData.map((d) => ({
      attributeStatus: 'UnknownVariable', component: d.component, variable: d.variable })) };
  }
  const status = (v16 ? ok16 : ok201)[method];
  if (status) return { status };
  return { status: 'Rejected' };
});

async function session16() {
  const results = {};
  results.boot = await cli.call('BootNotification', { chargePointVendor: 'Interop', chargePointModel: 'rpc' });
  results.heartbeat = await cli.call('Heartbeat', {});
  await cli.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
  results.authorize = await cli.call('Authorize', { idTag: 'INTEROP' });
  const start = await cli.call('StartTransaction', { connectorId: 1, idTag: 'INTEROP', meterStart: 1000, timestamp: now() });
  results.start = start;
  await cli.call('MeterValues', { connectorId: 1, transactionId: start.transactionId, meterValue: [
    { timestamp: now(), sampledValue: [{ value: '2500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
  results.stop = await cli.call('StopTransaction', { transactionId: start.transactionId, meterStop: 4000, timestamp: now(), reason: 'Local' });
  results.dataTransfer = await cli.call('DataTransfer', { vendorId: 'interop' });
  await cli.call('DiagnosticsStatusNotification', { status: 'Idle' });
  await cli.call('FirmwareStatusNotification', { status: 'Idle' });
  await cli.call('SecurityEventNotification', { type: 'StartupOfTheDevice', timestamp: now() });
  return results;
}

async function session201() {
  const results = {};
  results.boot = await cli.call('BootNotification', { chargingStation: { vendorName: 'Interop', model: 'rpc' }, reason: 'PowerUp' });
  results.heartbeat = await cli.call('Heartbeat', {});
  await cli.call('StatusNotification', { timestamp: now(), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
  results.authorize = await cli.call('Authorize', { idToken: { idToken: 'INTEROP', type: 'ISO14443' } });
  const tx = { transactionId: 'interop-tx-1' };
  const mv = (wh, ctx) => [{ timestamp: now(), sampledValue: [{ value: wh, context: ctx, measurand: 'Energy.Active.Import.Register' }] }];
  results.start = await cli.call('TransactionEvent', { eventType: 'Started', timestamp: now(), triggerReason: 'Authorized', seqNo: 0,
    transactionInfo: tx, evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'INTEROP', type: 'ISO14443' }, meterValue: mv(1000, 'Transaction.Begin') });
  await cli.call('TransactionEvent', { eventType: 'Updated', timestamp: now(), triggerReason: 'MeterValuePeriodic', seqNo: 1,
    transactionInfo: { ...tx, chargingState: 'Charging' }, meterValue: mv(2500, 'Sample.Periodic') });
  results.stop = await cli.call('TransactionEvent', { eventType: 'Ended', timestamp: now(), triggerReason: 'EVCommunicationLost', seqNo: 2,
    transactionInfo: { ...tx, stoppedReason: 'EVDisconnected' }, meterValue: mv(4000, 'Transaction.End') });
  results.needs = await cli.call('NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase' } });
  results.dataTransfer = await cli.call('DataTransfer', { vendorId: 'interop' });
  await cli.call('SecurityEventNotification', { type: 'StartupOfTheDevice', timestamp: now() });
  await cli.call('NotifyEvent', { generatedAt: now(), seqNo: 0, eventData: [{ eventId: 1, timestamp: now(), trigger: 'Alerting',
    actualValue: '1', eventNotificationType: 'HardWiredNotification', component: { name: 'EVSE' }, variable: { name: 'Problem' } }] });
  await cli.call('FirmwareStatusNotification', { status: 'Idle' });
  await cli.call('LogStatusNotification', { status: 'Idle' });
  return results;
}

async function badFrame() {
  // A payload that breaks the schema, sent raw (strict mode would refuse to send it).
  return new Promise((resolve) => {
    const onMessage = ({ message, outbound }) => {
      if (outbound) return;
      const msg = JSON.parse(message.toString());
      if (msg[1] === 'bad-1') { cli.off('message', onMessage); resolve(msg); }
    };
    cli.on('message', onMessage);
    cli.sendRaw(JSON.stringify([2, 'bad-1', 'Heartbeat', { unexpected: true }]));
  });
}

(async () => {
  await cli.connect();
  out({ connected: cli.protocol });
  const results = v16 ? await session16() : await session201();
  out({ session: results });
  out({ badFrame: await badFrame() });
  out({ ready: true });
  // Stay connected while the test sends commands through the CSMS; stop when stdin closes.
  process.stdin.resume();
  process.stdin.on('end', async () => { out({ received }); await cli.close(); process.exit(0); });
})().catch((err) => { out({ error: String(err && (err.rpcErrorCode || err.message) || err) }); process.exit(1); });
