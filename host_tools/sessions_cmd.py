"""``sprintwatch sessions``: list, delete or rename the sessions stored on this laptop."""
import argparse
import sys


def register(sub):
    from host_tools.sync_cmd import add_db_arg
    p = sub.add_parser("sessions", help="list, delete or rename the sessions stored on this laptop",
                       description="List the sessions in the local database, oldest first per device; "
                                   "`sessions delete ID` removes one, `sessions rename ID TITLE` names one.")
    p.add_argument("--sim", action="store_true", help="the simulated device's database (sync --sim)")
    add_db_arg(p)
    p.set_defaults(func=list_command)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    d = actions.add_parser("delete", help="remove a stored session (ID or DEVICE:ID)",
                           description="Remove a stored session from the laptop's database. The device "
                                       "is not asked: a session it still holds comes back with the next sync.")
    d.add_argument("session", help="ID or DEVICE:ID from `sprintwatch sessions`")
    d.set_defaults(func=delete_command)
    r = actions.add_parser("rename", help="give a stored session a title",
                           description="Give a stored session a title, shown by `sessions` (an empty "
                                       "title removes it).")
    r.add_argument("session", help="ID or DEVICE:ID from `sprintwatch sessions`")
    r.add_argument("title", help="the title")
    r.set_defaults(func=rename_command)
    for sp in (d, r):       # --db/--sim after the action too
        sp.add_argument("--sim", action="store_true", default=argparse.SUPPRESS, help="as above")
        sp.add_argument("--db", default=argparse.SUPPRESS, help="as above")


def list_command(args):
    from host_tools.sync_cmd import cmd_sessions
    return cmd_sessions(args)


def _find(args):
    """(db, device, session id) of the one stored session ``args.session`` names."""
    from host_tools.sessiondb import SessionDB
    from host_tools.sync_cmd import resolve_db
    ref = args.session
    device, _, sid = ref.rpartition(":")
    if not sid.isdigit():
        raise SystemExit("error: %r is not a session id (ID or DEVICE:ID, see sprintwatch sessions)" % ref)
    db = SessionDB(resolve_db(args))
    devices = sorted({d for d, s, *_rest in db.sessions(device or None) if s == int(sid)})
    if not devices:
        db.close()
        raise SystemExit("error: no stored session %s in %s (see sprintwatch sessions)" % (ref, db.path))
    if len(devices) > 1:
        db.close()
        raise SystemExit("error: session %s exists on several devices (%s): give DEVICE:%s"
                         % (sid, ", ".join(devices), sid))
    return db, devices[0], int(sid)


def delete_command(args):
    db, device, sid = _find(args)
    n = db.delete(device, sid)
    db.close()
    print("deleted session %s:%d%s" % (device, sid, " (%d copies)" % n if n > 1 else ""))
    return 0


def rename_command(args):
    db, device, sid = _find(args)
    title = args.title.strip()
    if len(title) > 200 or any(ord(c) < 32 for c in title):
        db.close()
        print("error: a title is one line of at most 200 characters", file=sys.stderr)
        return 1
    db.rename(device, sid, title or None)
    db.close()
    print("session %s:%d %s" % (device, sid, "is now %r" % title if title else "has no title"))
    return 0
