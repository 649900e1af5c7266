// A node-opcua server with the official DI and Machinery nodesets (node-opcua-nodesets), for floortwin's
// interoperability tests. Usage: node nodesets.js PORT — prints "ready" once it listens on 127.0.0.1:PORT/interop.
// Objects/Press1 (a DI device): DeviceHealth (DeviceHealthEnumeration: FAILURE), State/CurrentState of a
// MachineryItemState state machine ("Executing", a LocalizedText), Speed (an AnalogItem: rpm, EURange 0–1000,
// value 1012.7, above the range); its own namespace is registered after DI, IA and Machinery.
const { OPCUAServer, DataType, Variant, coerceLocalizedText } = require("node-opcua");
const { nodesets } = require("node-opcua-nodesets");

const port = parseInt(process.argv[2] || "4842", 10);

(async () => {
  const server = new OPCUAServer({
    port,
    hostname: "127.0.0.1",
    resourcePath: "/interop",
    nodeset_filename: [nodesets.standard, nodesets.di, nodesets.ia, nodesets.machinery],
    serverInfo: { applicationUri: "urn:floortwin:interop:nodesets" },
  });
  await server.initialize();
  const space = server.engine.addressSpace;
  const di = space.getNamespaceIndex("http://opcfoundation.org/UA/DI/");
  const ns = space.getOwnNamespace();
  const press = ns.addObject({ organizedBy: space.rootFolder.objects, browseName: "Press1", nodeId: "s=Press1" });
  const healthType = space.findDataType("DeviceHealthEnumeration", di);
  ns.addVariable({
    componentOf: press, browseName: "DeviceHealth", nodeId: "s=Press1/DeviceHealth", dataType: healthType,
    value: new Variant({ dataType: DataType.Int32, value: 1 }),  // FAILURE
  });
  const state = ns.addObject({ componentOf: press, browseName: "State", nodeId: "s=Press1/State" });
  ns.addVariable({
    componentOf: state, browseName: "CurrentState", nodeId: "s=Press1/State/CurrentState", dataType: "LocalizedText",
    value: new Variant({ dataType: DataType.LocalizedText, value: coerceLocalizedText({ locale: "en", text: "Executing" }) }),
  });
  ns.addAnalogDataItem({
    componentOf: press, browseName: "Speed", nodeId: "s=Press1/Speed", dataType: "Double",
    engineeringUnitsRange: { low: 0, high: 1000 },
    engineeringUnits: { unitId: 5393996, displayName: { text: "rpm" }, description: { text: "revolutions per minute" } },
    value: new Variant({ dataType: DataType.Double, value: 1012.7 }),
  });
  await server.start();
  console.log("ready", server.getEndpointUrl(), ns.namespaceUri);
  const stop = async () => { await server.shutdown(100); process.exit(0); };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
})().catch((err) => { console.error(err); process.exit(1); });
