"""A network's name in other languages (issue 9): "Red Iberoamericana de Cooperación Jurídica
Internacional" is IberRed's name for a Spanish reader, "Ibero-American Network for
International Legal Cooperation" for an English one. ``Network.name`` gives the reader's
one (network/models/directory.py); ``Network.default_name`` is the name of record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.extensions import db

if TYPE_CHECKING:
    from network.models.directory import Network


class NetworkName(db.Model):
    __tablename__ = "network_names"

    network_id: Mapped[int] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str] = mapped_column(String(10), primary_key=True)  # "es", "pt", "ar"...
    name: Mapped[str] = mapped_column(String(200))

    network: Mapped[Network] = relationship(back_populates="localized_names")

    def __repr__(self) -> str:
        return f"<NetworkName {self.network_id} {self.locale}>"
