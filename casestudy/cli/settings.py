"""``settings``: the installation's settings (the public URL every link starts with)."""

from __future__ import annotations

from casestudy.cli import Context, add_format_option, lazy_module

app_settings = lazy_module("casestudy.settings")
browser_sessions = lazy_module("casestudy.browser_sessions")


def _public_url_record(session) -> dict:
    current = app_settings.public_url(session)
    return {"name": "public-url", "value": current.url, "source": current.source, "stored": current.stored,
            "links_start_with": app_settings.link_base(session)}


def cmd_settings_show(ctx: Context):
    with ctx.store.read() as session:
        ctx.emit([_public_url_record(session)], ["name", "value", "source", "stored", "links_start_with"])


def cmd_settings_set(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        app_settings.set_public_url(session, a.value, "cli")
    with ctx.store.read() as session:
        ctx.emit(_public_url_record(session))


def cmd_sessions_list(ctx: Context):
    with ctx.store.read() as session:
        ctx.emit(browser_sessions.open_sessions(session), ["id", "user", "started", "last_seen", "expires", "client"])


def cmd_sessions_end(ctx: Context):
    ended = browser_sessions.end_id(ctx.store, ctx.args.session_id, "ended by an administrator")
    ctx.emit({"session": ctx.args.session_id, "ended": ended})


def register(subparsers) -> None:
    s = subparsers.add_parser("settings", help="installation settings (public URL)").add_subparsers(dest="settings_command", required=True)
    p = s.add_parser("show", help="the settings and where each comes from", description="the settings and where each comes from")
    p.set_defaults(handler=cmd_settings_show)
    add_format_option(p)
    p = s.add_parser("set", help="change a setting: set public-url https://casestudy.example.org ('' clears it)",
                     description="change a setting; CASESTUDY_PUBLIC_URL in the environment still wins")
    p.set_defaults(handler=cmd_settings_set)
    p.add_argument("name", choices=["public-url"])
    p.add_argument("value", help="http(s) address people open; an empty string clears the setting")
    add_format_option(p)

    b = subparsers.add_parser("sessions", help="researchers' signed-in browsers").add_subparsers(dest="sessions_command", required=True)
    p = b.add_parser("list", help="open browser sessions", description="open browser sessions (not ended, idle or expired)")
    p.set_defaults(handler=cmd_sessions_list)
    add_format_option(p)
    p = b.add_parser("end", help="sign a browser out (its session ends on the server)", description="end one browser session")
    p.set_defaults(handler=cmd_sessions_end)
    p.add_argument("session_id", type=int)
    add_format_option(p)
