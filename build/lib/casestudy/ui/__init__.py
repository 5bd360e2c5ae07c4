"""The Streamlit faces of the library. Only this package imports Streamlit."""
