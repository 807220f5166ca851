"""A dismissible message strip above the views: errors and notices that must not block the window
(no modal dialogs), optionally with one action button (e.g. "Reset")."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget


class MessageBanner(QFrame):
    """Shows one message at a time; hidden when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text, 1)
        self.action_button = QPushButton()
        self.action_button.setStyleSheet("QPushButton { color: white; background: rgba(0, 0, 0, 50); "
                                         "border: 1px solid white; border-radius: 4px; padding: 3px 14px; }"
                                         "QPushButton:hover { background: rgba(0, 0, 0, 90); }")
        self.action_button.hide()
        self.action_button.clicked.connect(self._on_action_button_clicked)
        layout.addWidget(self.action_button)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.clear)
        layout.addWidget(close)
        self._action: Callable[[], None] | None = None
        self.kind = ""
        self.hide()

    def show_message(self, text: str, *, kind: str = "error", action: str | None = None,
                     callback: Callable[[], None] | None = None) -> None:
        """Show ``text`` (``kind`` is ``"error"`` or ``"info"``), with an optional action button."""
        self.kind = kind
        self.setProperty("banner", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.text.setText(text)
        self._action = callback
        self.action_button.setVisible(action is not None)
        self.action_button.setText(action or "")
        self.show()

    def message(self) -> str:
        """The text shown ('' when hidden)."""
        return "" if self.isHidden() else self.text.text()

    def clear(self) -> None:
        self.kind = ""
        self.text.setText("")
        self._action = None
        self.hide()

    def _on_action_button_clicked(self) -> None:
        action = self._action
        self.clear()
        if action is not None:
            action()
