"""Casestudy app entry point.

``streamlit run app.py`` finds ``app`` below (an ``st.App``) and serves it under uvicorn: the
Streamlit pages plus the session-cookie routes and security headers of ``casestudy.ui.server``.
Streamlit then runs this same file as ``__main__`` for every browser rerun (and so does
AppTest), which builds the role-based navigation and runs the chosen page.
"""

import streamlit as st

if __name__ == "__main__":
    from casestudy.ui.navigation import build_navigation

    build_navigation().run()
else:
    from casestudy.ui.server import MIDDLEWARE, ROUTES

    app = st.App(__file__, routes=ROUTES, middleware=MIDDLEWARE)
