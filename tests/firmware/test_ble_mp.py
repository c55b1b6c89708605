"""The GATT layer on a fake ``bluetooth`` module, on CPython and the MicroPython port."""
import fakeble

fakeble.install()

from swcore import syncproto as sp  # noqa: E402
from swrt import ble_mp  # noqa: E402
if ble_mp.bluetooth is not fakeble:  # CPython: imported earlier over the Bumble adapter
    import importlib
    ble_mp = importlib.reload(ble_mp)
from memstore import MemStore  # noqa: E402

KEY = ("sw-test", bytes(32))


def make(sizes=(2000,)):
    ble = fakeble.BLE()
    server = sp.SyncServer(MemStore(sizes), KEY, lambda n: bytes(n))
    p = ble_mp.SyncPeripheral(server, firmware="1.0", ble=ble)
    p.start(battery_pct=140)
    return ble, p


def drain(p):
    while p.service():
        pass


def test_services_advertising_and_buffers():
    ble, p = make()
    dis, bas, sync = p.handles
    assert ble.values[dis[2]] == b"sw-test" and ble.values[dis[0]] == b"Sprintwatch"
    assert ble.values[bas[0]] == bytes([100]), "battery level clamped to 100 %"
    assert ble.sizes[p.rx] == sp.MAX_REQUEST, "RX buffer enlarged beyond the 20-byte default"
    _interval, adv, resp = ble.adverts[-1]
    assert sp.uuid_bytes(sp.SERVICE_UUID) in adv and len(adv) <= 31
    assert b"Sprintwatch" in resp and len(resp) <= 31
    assert ble.cfg["mtu"] == ble_mp.PREFERRED_MTU


def frames(ble, start=0):
    """The device frames in the notifications sent so far (plain: before the handshake)."""
    r = sp.FrameReader()
    for n in ble.sent[start:]:
        r.feed(n)
    out = []
    while True:
        f = r.next()
        if f is None:
            return out
        out.append(sp.parse_plain(f))


def authed(p, ble):
    """Log in through the GATT layer; returns the host channel."""
    from synchost import Host
    h = Host(p.server, key=KEY[1], device_id=KEY[0])
    start = len(ble.sent)
    hn = bytes(range(16))
    ble.write(1, p.rx, sp.request(sp.OP_AUTH_BEGIN, hn))
    drain(p)
    body = frames(ble, start)[-1][3][4:]
    dn, suite = body[:16], body[16]
    ble.write(1, p.rx, sp.request(sp.OP_AUTH_PROVE, sp.host_proof(KEY[1], hn, dn, suite)))
    drain(p)
    assert frames(ble, start)[-1][1] == sp.OK
    h.keys = sp.Keys(KEY[1], hn, dn, suite)
    h.channel = sp.Channel(h.keys, sp.DIR_HOST)
    del ble.sent[:]
    return h


def test_request_answered_and_mtu_used():
    ble, p = make()
    ble.connect()
    assert ble.exchanges == [1], "the device asks for a larger MTU itself"
    ble.mtu(1, 185)
    ble.write(1, p.rx, sp.request(sp.OP_AUTH_BEGIN, bytes(16)))
    drain(p)
    f = frames(ble)[-1]
    assert f[0] == sp.OP_AUTH_BEGIN | sp.RESPONSE and f[1] == sp.OK and len(f[3]) == 4 + 49


def test_enomem_retried_in_order():
    ble, p = make(sizes=(3000,))
    ble.connect()
    ble.mtu(1, 100)
    h = authed(p, ble)
    frame, _ = h.seal(sp.OP_READ, bytes([1, 0, 0, 0]) + bytes(8))
    ble.write(1, p.rx, frame)
    ble.enomem = 3
    assert p.service() is True and not ble.sent, "queue full: nothing lost, try later"
    rounds = 0
    while p.service():
        rounds += 1
        if rounds % 4 == 0:
            ble.enomem = 2
    assert all(len(n) == 97 for n in ble.sent[:-1]), "every notification is full"
    for n in ble.sent:
        h.reader.feed(n)
    got = h.frames()
    chunks = Host_chunks(got)
    assert b"".join(c for _o, c in chunks) == p.server.store.data[1]
    assert [o for o, _c in chunks] == sorted(o for o, _c in chunks)
    assert p.notify_retries >= 3 and got[-1][0] == sp.OP_READ | sp.RESPONSE


def Host_chunks(got):
    from synchost import Host
    return Host.chunks([g for g in got if g[0] == sp.DATA])


def test_notify_after_disconnect_drops_state_and_readvertises():
    ble, p = make(sizes=(5000,))
    ble.connect()
    h = authed(p, ble)
    ble.write(1, p.rx, h.seal(sp.OP_READ, bytes([1, 0, 0, 0]) + bytes(8))[0])
    p.service()
    ble.disconnect(tell=False)      # the peer is gone before the IRQ arrives
    assert p.service() is False
    assert p.conn is None and not p.server.busy() and not p.server.authed
    n = len(ble.adverts)
    ble.disconnect()                # the late IRQ: advertise again, no crash
    assert len(ble.adverts) == n + 1
    ble.connect(2)
    del ble.sent[:]
    ble.write(2, p.rx, h.seal(sp.OP_LIST)[0])
    drain(p)
    assert frames(ble)[-1][1] == sp.E_AUTH_REQUIRED, "new link, new auth"


def test_write_cut_by_a_small_buffer_is_refused():
    ble, p = make()
    ble.connect()
    ble.sizes[p.rx] = 20            # as if gatts_set_buffer had not been called
    ble.write(1, p.rx, sp.request(sp.OP_AUTH_PROVE, bytes(32)))
    drain(p)
    assert frames(ble)[-1][1] == sp.E_MALFORMED


def test_writes_from_other_connections_or_handles_ignored():
    ble, p = make()
    ble.connect()
    ble.write(1, p.tx, sp.request(sp.OP_INFO))
    ble.write(7, p.rx, sp.request(sp.OP_INFO))
    drain(p)
    assert ble.sent == []


def test_squatter_is_disconnected_and_the_device_advertises_again():
    ble, p = make()
    t = [0]
    p.server.clock = lambda: t[0]
    ble.connect()
    drain(p)
    t[0] += sp.UNAUTH_TIMEOUT_MS
    n = len(ble.adverts)
    p.service()
    assert getattr(ble, "disconnects", []) == [1] and p.conn is None
    assert len(ble.adverts) == n + 1, "connectable again for the owner"


def test_missing_key_file_means_unprovisioned():
    assert ble_mp.load_key("/nonexistent/sync.key") is None


def _bind_fake():
    global ble_mp
    if ble_mp.bluetooth is not fakeble:  # CPython: a Bumble test re-imported it meanwhile
        import importlib
        fakeble.install()
        ble_mp = importlib.reload(ble_mp)


def test_start_sync_reads_key_and_installs_plans():
    import os
    _bind_fake()
    root = "/tmp/sw_ble_mp_test/"
    try:
        os.mkdir(root[:-1])
    except OSError:
        pass
    with open(root + "sync.key", "w") as f:
        f.write(sp.format_key_file("sw-abc", bytes(range(32))))
    made = []
    real = fakeble.BLE

    def factory():
        made.append(real())
        return made[-1]
    fakeble.BLE = factory
    try:
        p = ble_mp.start_sync(MemStore([10]), root=root, battery=lambda: 55, random=lambda n: bytes(n))
    finally:
        fakeble.BLE = real
    assert p.server.key == ("sw-abc", bytes(range(32)))
    assert made[0].values[p.handles[1][0]] == bytes([55])
    p.server.install_plan('{"a": 1}')
    p.server.install_plan('{"a": 2}')
    with open(root + "plan.json") as f:
        assert f.read() == '{"a": 2}'
    for n in ("sync.key", "plan.json"):
        os.remove(root + n)
    os.rmdir(root[:-1])


def test_device_main_serves_sync_only_when_provisioned():
    import os
    import json
    import main as device_main
    from fake_machine import FakeMachine, FakeTime
    from expect import Collector
    _bind_fake()
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    root = here + "/../../build/test_ble_main/"
    for d in (here + "/../../build", root[:-1]):
        try:
            os.mkdir(d)
        except OSError:
            pass
    for n in ("sync.key", "board.json"):
        try:
            os.remove(root + n)
        except OSError:
            pass
    with open(here + "/../../boards/sim.json") as f:
        board = f.read()
    with open(root + "board.json", "w") as f:
        f.write(board)
    time = FakeTime()
    runner = device_main.prepare(FakeMachine(time), time, root, sinks=[Collector()])
    assert device_main.start_sync(runner, root) is None, "no key: no radio"
    assert runner.background == []
    with open(root + "sync.key", "w") as f:
        f.write(sp.format_key_file("sw-main", bytes(32)))
    p = device_main.start_sync(runner, root)
    assert p is not None and p.server.key[0] == "sw-main"
    assert p.server.store is runner.app.sinks[-1].store, "serves the session's own store"
    assert len(runner.background) == 1
    runner.background[0].close()
    os.remove(root + "sync.key")


def test_runner_runs_background_tasks_beside_the_session():
    import json
    from fake_machine import FakeMachine, FakeTime, RealTicks
    from fake_i2c import FakeLIS3DH
    from app import App, load_plan
    from swcore import boardspec
    from swrt import mp
    from swrt.runner import Runner
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    with open(here + "/../../boards/pico-w-lis3dh.json") as f:
        spec = boardspec.parse(f.read())
    parts = mp.build(spec, FakeMachine(FakeTime(), devices=[FakeLIS3DH(0x18)]), RealTicks())
    plan = {"name": "Tiny", "sets": [{"name": "S", "steps": [
        {"name": "Only", "kind": "timed", "duration_s": 1}]}]}
    name, steps, _t, err = load_plan(lambda: json.dumps(plan))
    runner = Runner(App(parts, name, steps, []), parts, err)
    ticks = []

    async def beside():
        import asyncio
        while True:
            ticks.append(1)
            await asyncio.sleep(0.02)
    runner.background.append(beside())
    runner.run()
    assert runner.finished and len(ticks) >= 3
