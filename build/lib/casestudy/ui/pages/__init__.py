"""One module per page; each declares PAGE (a PageSpec) and render()."""
