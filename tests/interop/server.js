// An independent OPC UA server for floortwin's interoperability tests (node-opcua).
// Usage: node server.js PORT [secure PKI_DIR [strict]] — serves Objects/Plant/Mill1/{State,Temperature,PartCount} (and
// the writable TargetTemperature, Locked, Frozen) on
// 127.0.0.1:PORT, changing every 200 ms, and prints "ready" once it listens. With "secure": only
// Basic256Sha256 (Sign, SignAndEncrypt), only the login alice / s3cret, certificates kept in PKI_DIR.
const {
  OPCUAServer, OPCUACertificateManager, Variant, DataType, SecurityPolicy, MessageSecurityMode, StatusCodes,
} = require("node-opcua");

const port = parseInt(process.argv[2] || "4841", 10);
const secure = process.argv[3] === "secure";
// "strict" (after PKI_DIR): client certificates the server has not been told to trust are rejected, as a
// real PLC does on the first connection (the default here accepts them, for the other tests).
const strict = process.argv[5] === "strict";

(async () => {
  const options = {
    port,
    hostname: "127.0.0.1",
    resourcePath: "/interop",
    buildInfo: { productName: "floortwin-interop-node-opcua" },
    serverInfo: { applicationUri: "urn:floortwin:interop:node-opcua" },
  };
  if (secure) {
    const pki = process.argv[4];
    options.serverCertificateManager = new OPCUACertificateManager({
      rootFolder: pki, automaticallyAcceptUnknownCertificate: !strict,
    });
    options.userCertificateManager = new OPCUACertificateManager({
      rootFolder: pki + "/user", automaticallyAcceptUnknownCertificate: true,
    });
    options.securityPolicies = [SecurityPolicy.Basic256Sha256];
    options.securityModes = [MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt];
    options.allowAnonymous = false;
    options.userManager = { isValidUser: (user, password) => user === "alice" && password === "s3cret" };
  }
  const server = new OPCUAServer(options);
  await server.initialize();
  const ns = server.engine.addressSpace.getOwnNamespace();
  const plant = ns.addObject({ organizedBy: server.engine.addressSpace.rootFolder.objects, browseName: "Plant" });
  const mill = ns.addObject({ componentOf: plant, browseName: "Mill1" });
  const state = { t: 0, parts: 0 };
  ns.addVariable({
    componentOf: mill, browseName: "State", minimumSamplingInterval: 100, nodeId: "s=Plant/Mill1/State", dataType: "String",
    value: { get: () => new Variant({ dataType: DataType.String, value: state.t % 10 < 7 ? "running" : "starved" }) },
  });
  ns.addVariable({
    componentOf: mill, browseName: "Temperature", minimumSamplingInterval: 100, nodeId: "s=Plant/Mill1/Temperature", dataType: "Double",
    value: { get: () => new Variant({ dataType: DataType.Double, value: 40 + 5 * Math.sin(state.t / 5) }) },
  });
  ns.addVariable({
    componentOf: mill, browseName: "PartCount", minimumSamplingInterval: 100, nodeId: "s=Plant/Mill1/PartCount", dataType: "UInt32",
    value: { get: () => new Variant({ dataType: DataType.UInt32, value: state.parts }) },
  });
  // Writable nodes for the write tests: a setpoint (AnalogItem: unit, EURange, and an InstrumentRange outside
  // which node-opcua answers BadOutOfRange), and two whose access level says writable but whose write the
  // server refuses all the same (BadUserAccessDenied, BadNotWritable), as a PLC's own checks may.
  ns.addAnalogDataItem({
    componentOf: mill, browseName: "TargetTemperature", nodeId: "s=Plant/Mill1/TargetTemperature", dataType: "Double",
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
    engineeringUnitsRange: { low: 20, high: 80 }, instrumentRange: { low: 0, high: 120 },
    engineeringUnits: { unitId: 4408652, displayName: { text: "°C" }, description: { text: "degree Celsius" } },
    value: new Variant({ dataType: DataType.Double, value: 45 }),
  });
  const refusing = (name, status) => ns.addVariable({
    componentOf: mill, browseName: name, nodeId: `s=Plant/Mill1/${name}`, dataType: "Int32",
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
    value: { get: () => new Variant({ dataType: DataType.Int32, value: 7 }), set: () => status },
  });
  refusing("Locked", StatusCodes.BadUserAccessDenied);
  refusing("Frozen", StatusCodes.BadNotWritable);
  // An alarm (Alarms & Conditions) for the event tests: CoolantHigh, an ExclusiveLimitAlarm on the writable
  // Coolant variable (50 is normal; above 75 High, above 90 HighHigh), its events on the Server object.
  const addressSpace = server.engine.addressSpace;
  addressSpace.installAlarmsAndConditionsService();
  const alarms = ns.addObject({
    componentOf: plant, browseName: "Mill1Alarms", nodeId: "s=Plant/Mill1Alarms", eventSourceOf: addressSpace.rootFolder.objects.server,
  });
  const coolant = ns.addVariable({
    componentOf: mill, browseName: "Coolant", nodeId: "s=Plant/Mill1/Coolant", dataType: "Double",
    accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
    value: new Variant({ dataType: DataType.Double, value: 50 }),
  });
  const coolantHigh = ns.instantiateExclusiveLimitAlarm("ExclusiveLimitAlarmType", {
    browseName: "CoolantHigh", nodeId: "s=Plant/Mill1Alarms/CoolantHigh", componentOf: alarms, conditionSource: alarms, conditionName: "CoolantHigh",
    inputNode: coolant, lowLowLimit: 10, lowLimit: 25, highLimit: 75, highHighLimit: 90,
  });
  coolantHigh.setEnabledState(true);
  setInterval(() => { state.t += 1; if (state.t % 3 === 0) state.parts += 1; }, 200);
  await server.start();
  console.log("ready", server.getEndpointUrl());
  const stop = async () => { await server.shutdown(100); process.exit(0); };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
})().catch((err) => { console.error(err); process.exit(1); });
