"""Casestudy app entry point: builds the role-based navigation and runs the chosen page."""

from casestudy.ui.navigation import build_navigation

build_navigation().run()
