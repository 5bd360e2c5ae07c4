"""Custom Streamlit components (components v2, inline JS, no build step)."""
