"""A kitchen order ticket as ESC/POS bytes (python-escpos), and sending them to a
network thermal printer.

The bytes are made by python-escpos's `Dummy` printer, which only records what it would
send: the ticket is then one buffer that is written to the printer's raw port in one
connection, with a timeout, from a thread (the job must not block the event loop).
"""

from __future__ import annotations

import socket

from escpos.printer import Dummy

from canteen.printing.service import Ticket

WIDTH = 42  # characters per line in font A on 80 mm paper
CONNECT_TIMEOUT = 5.0


def render(ticket: Ticket) -> bytes:
    p = Dummy()
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.text("KITCHEN TICKET\n")
    p.text(f"{ticket.order_number}\n")
    p.set_with_default(align="center")
    kind = "PICKUP" if ticket.order_type == "pickup" else "DELIVERY"
    slot = f"  slot {ticket.time_slot}" if ticket.time_slot else ""
    p.text(f"{kind}{slot}\n")
    p.text(ticket.placed_at.strftime("%d %b %Y %H:%M") + "\n")
    if ticket.station:
        p.text(f"Station: {ticket.station}\n")
    p.set_with_default(align="left")
    p.text("-" * WIDTH + "\n")
    for line in ticket.lines:
        p.set_with_default(align="left", bold=True, double_height=True)
        p.text(f"{line.quantity} x {line.name}\n")
        if line.notes:
            p.set_with_default(align="left")
            p.text(f"   note: {line.notes}\n")
    p.set_with_default(align="left")
    p.text("-" * WIDTH + "\n")
    if ticket.instructions:
        p.text(f"Instructions: {ticket.instructions}\n")
    p.cut()
    return bytes(p.output)


def send(host: str, port: int, data: bytes, timeout: float = CONNECT_TIMEOUT) -> None:
    """Write `data` to the printer's raw port (blocking: call it from a thread)."""
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
