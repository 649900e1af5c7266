"""The live link's client side, without Qt: the OPC UA client (``client``) on its own network thread
(``netloop``), server trust (``trust``), and the live session that keeps a factory's bound signals in a
state store with alarms, output rates and a history (``session``). The plant simulator is ``app.plant``."""
