// A node-opcua server with the official DI and Machinery nodesets (node-opcua-nodesets), for floortwin's
// interoperability tests. Usage: node nodesets.js PORT [MACHINES [HUGE]] — prints "ready" once it listens on
// 127.0.0.1:PORT/interop. With MACHINES: that many OPC UA for Machinery machines (see addMachines), plus one that
// lies (no SerialNumber, no MachineryItemState, a reference back up making a browse loop) and one whose
// CurrentState is an Int32; with HUGE: a node of
// that many children under the liar.
// Objects/Press1 (a DI device): DeviceHealth (DeviceHealthEnumeration: FAILURE), State/CurrentState of a
// MachineryItemState state machine ("Executing", a LocalizedText), Speed (an AnalogItem: rpm, EURange 0–1000,
// value 1012.7, above the range); its own namespace is registered after DI, IA and Machinery.
const { OPCUAServer, DataType, Variant, coerceLocalizedText } = require("node-opcua");
const { nodesets } = require("node-opcua-nodesets");

const port = parseInt(process.argv[2] || "4842", 10);
const machineCount = parseInt(process.argv[3] || "0", 10);
const hugeCount = parseInt(process.argv[4] || "0", 10);

// MACHINES instances under Machinery's Machines folder, in folders Line1, Line2, … of up to 4 (the hierarchy): each
// with DI:Identification (a MachineIdentificationType: Manufacturer, Model, SerialNumber, Location,
// ProductInstanceUri), MachineryBuildingBlocks/MachineryItemState and MachineryOperationMode (their CurrentState),
// and a PartsProduced counter. Kinds alternate press, CNC, robot by Model.
function addMachines(space, ns, count, huge) {
  const di = space.getNamespaceIndex("http://opcfoundation.org/UA/DI/");
  const mi = space.getNamespaceIndex("http://opcfoundation.org/UA/Machinery/");
  const folder = space.findNode(`ns=${mi};i=1001`);
  const identType = space.findObjectType("MachineIdentificationType", mi);
  const stateType = space.findObjectType("MachineryItemState_StateMachineType", mi);
  const modeType = space.findObjectType("MachineryOperationModeStateMachineType", mi);
  const text = (t) => ({ dataType: DataType.LocalizedText, value: coerceLocalizedText({ locale: "en", text: t }) });
  const models = ["Servo Press SP-400", "CNC Mill DMU 50", "Robot Cell KR 16"];
  const states = ["Executing", "NotExecuting", "OutOfService"];
  const lines = [];
  const child = (node, name) => {
    const found = node.getChildByName(name) || node.getPropertyByName(name);
    if (!found) throw new Error(`${name} not in ${node.getChildren().map((c) => c.browseName.toString()).join(",")}`);
    return found;
  };
  const counters = [];
  for (let i = 1; i <= count; i += 1) {
    const line = Math.floor((i - 1) / 4);
    if (!lines[line]) lines[line] = ns.addFolder(folder, { browseName: `Line${line + 1}`, nodeId: `s=Machines/Line${line + 1}` });
    const id = `M${String(i).padStart(4, "0")}`;
    const base = `s=Machines/${id}`;
    const machine = ns.addObject({ organizedBy: lines[line], browseName: id, nodeId: base });
    const ident = identType.instantiate({
      browseName: { name: "Identification", namespaceIndex: di }, componentOf: machine, optionals: ["Model", "Location"],
    });
    child(ident, "Manufacturer").setValueFromSource(text("ACME Machines"));
    child(ident, "Model").setValueFromSource(text(models[(i - 1) % 3]));
    child(ident, "SerialNumber").setValueFromSource({ dataType: DataType.String, value: `SN-${1000 + i}` });
    child(ident, "Location").setValueFromSource({ dataType: DataType.String, value: `Hall A Line${line + 1}` });
    child(ident, "ProductInstanceUri").setValueFromSource({ dataType: DataType.String, value: `urn:acme:${id}` });
    const blocks = ns.addObject({
      componentOf: machine, browseName: { name: "MachineryBuildingBlocks", namespaceIndex: mi }, typeDefinition: "FolderType",
    });
    const state = stateType.instantiate({ browseName: { name: "MachineryItemState", namespaceIndex: mi }, componentOf: blocks });
    state.getComponentByName("CurrentState").setValueFromSource(text(states[(i - 1) % 3]));
    const mode = modeType.instantiate({ browseName: { name: "MachineryOperationMode", namespaceIndex: mi }, componentOf: blocks });
    mode.getComponentByName("CurrentState").setValueFromSource(text("Processing"));
    const counter = { parts: i };
    counters.push(counter);
    ns.addVariable({
      componentOf: machine, browseName: "PartsProduced", minimumSamplingInterval: 100, nodeId: `${base}/PartsProduced`, dataType: "UInt32",
      value: { get: () => new Variant({ dataType: DataType.UInt32, value: counter.parts }) },
    });
  }
  // The liar: Identification without SerialNumber, no state machine, and Loop organizing its own machine.
  const liar = ns.addObject({ organizedBy: folder, browseName: "Liar", nodeId: "s=Machines/Liar" });
  const ident = ns.addObject({ componentOf: liar, browseName: { name: "Identification", namespaceIndex: di }, nodeId: "s=Machines/Liar/Identification" });
  ns.addVariable({
    propertyOf: ident, browseName: { name: "Manufacturer", namespaceIndex: di }, dataType: "LocalizedText",
    value: new Variant(text("Nobody")),
  });
  const loop = ns.addObject({ componentOf: liar, browseName: "Loop", nodeId: "s=Machines/Liar/Loop" });
  loop.addReference({ referenceType: "Organizes", nodeId: liar.nodeId });
  loop.addReference({ referenceType: "Organizes", nodeId: folder.nodeId });
  // A machine whose state has the wrong data type (an Int32 code, not a LocalizedText) and no Identification.
  const wrong = ns.addObject({ organizedBy: folder, browseName: "WrongType", nodeId: "s=Machines/WrongType" });
  const wrongState = ns.addObject({
    componentOf: wrong, browseName: { name: "MachineryItemState", namespaceIndex: mi }, nodeId: "s=Machines/WrongType/State",
  });
  ns.addVariable({
    componentOf: wrongState, browseName: "CurrentState", nodeId: "s=Machines/WrongType/State/CurrentState", dataType: "Int32",
    value: new Variant({ dataType: DataType.Int32, value: 1 }),
  });
  if (huge > 0) {
    const many = ns.addObject({ componentOf: liar, browseName: "Many", nodeId: "s=Machines/Liar/Many" });
    for (let k = 0; k < huge; k += 1) {
      ns.addObject({ componentOf: many, browseName: `N${k}`, nodeId: `s=Machines/Liar/Many/${k}` });
    }
  }
  setInterval(() => { for (const c of counters) c.parts += 1; }, 500);
}

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
  if (machineCount > 0) addMachines(space, ns, machineCount, hugeCount);
  await server.start();
  console.log("ready", server.getEndpointUrl(), ns.namespaceUri);
  const stop = async () => { await server.shutdown(100); process.exit(0); };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
})().catch((err) => { console.error(err); process.exit(1); });
