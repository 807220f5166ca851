"""Live pyqtgraph views of a running network (one class per view) and their composition."""
