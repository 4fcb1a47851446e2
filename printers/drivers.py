"""Printer URIs, opening the python-escpos printer they name, and sending a slip image to it."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from escpos.escpos import Escpos
from escpos.printer import Dummy, File, Network, Serial, Usb
from PIL import Image

DEFAULT_NETWORK_PORT = 9100
# a printer that is switched off makes connect() hang until this, so keep it short
NETWORK_CONNECT_TIMEOUT_S = 3.0
# a busy printer accepts a slip about as fast as it prints it, a couple of seconds at worst
NETWORK_SEND_TIMEOUT_S = 20.0
USB_TIMEOUT_MS = 10_000
DEFAULT_SERIAL_BAUDRATE = 9600
CUPS_TIMEOUT_S = 30.0

AGENT_URI = "agent"
NONE_URI = "none"
URI_FORMS = ("network://HOST:PORT", "usb://VID:PID", "serial:///dev/ttyS0", "file:///path",
             "cups://NAME", AGENT_URI, NONE_URI)


class PrinterUnavailable(Exception):
    """The printer named by a valid URI cannot be reached or used right now."""


@dataclass(frozen=True)
class PrinterAddress:
    """A validated printer URI taken apart; only the fields of its kind are set."""

    kind: str
    host: str = ""
    port: int = 0
    vendor_id: int = 0
    product_id: int = 0
    path: str = ""
    baudrate: int = 0
    queue_name: str = ""


def parse_printer_uri(uri: str) -> PrinterAddress:
    """Check a printer URI without touching the printer, raising ValueError with a readable message."""
    if not isinstance(uri, str) or not uri.strip():
        raise ValueError(f"printer URI is empty; use one of: {', '.join(URI_FORMS)}")
    uri = uri.strip()
    if uri in (AGENT_URI, NONE_URI):
        return PrinterAddress(kind=uri)
    parts = urlsplit(uri)
    if parts.scheme == "network":
        return _parse_network(uri, parts)
    if parts.scheme == "usb":
        return _parse_usb(uri, parts)
    if parts.scheme == "serial":
        return _parse_serial(uri, parts)
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/") or parts.query:
            raise ValueError(f"file printer URI {uri!r} needs an absolute path: file:///path")
        return PrinterAddress(kind="file", path=unquote(parts.path))
    if parts.scheme == "cups":
        queue_name = unquote(parts.netloc)
        if not queue_name or parts.path not in ("", "/") or parts.query:
            raise ValueError(f"CUPS printer URI {uri!r} needs a queue name: cups://NAME")
        return PrinterAddress(kind="cups", queue_name=queue_name)
    raise ValueError(f"unknown printer URI {uri!r}; use one of: {', '.join(URI_FORMS)}")


def open_printer(uri: str) -> Escpos | None:
    """Open the printer a URI names, ready to print; None for `none`, where nothing is printed."""
    address = parse_printer_uri(uri)
    if address.kind == AGENT_URI:
        raise ValueError("printer URI 'agent' means a remote print agent prints; it cannot be opened here")
    if address.kind == NONE_URI:
        return None
    if address.kind == "network":
        printer = Network(address.host, address.port, timeout=NETWORK_CONNECT_TIMEOUT_S)
    elif address.kind == "usb":
        printer = Usb(address.vendor_id, address.product_id, timeout=USB_TIMEOUT_MS)
    elif address.kind == "serial":
        printer = Serial(address.path, baudrate=address.baudrate)
    elif address.kind == "file":
        printer = File(address.path)
    else:
        return CupsRawPrinter(address.queue_name)
    try:
        # opening now, not lazily at the first byte, makes an unreachable printer fail here, in one place
        printer.open()
    except Exception as error:
        raise PrinterUnavailable(f"cannot open printer {uri}: {error_message(error)}") from error
    if address.kind == "network":
        printer.device.settimeout(NETWORK_SEND_TIMEOUT_S)
    return printer


class CupsRawPrinter(Dummy):
    """Collects ESC/POS bytes and hands them to a CUPS queue as one raw job when closed."""

    def __init__(self, queue_name: str) -> None:
        """Fail at once when the CUPS client is not installed, rather than at the first slip."""
        super().__init__()
        self.queue_name = queue_name
        self.lp_command = shutil.which("lp")
        if self.lp_command is None:
            raise PrinterUnavailable(f"cannot print to CUPS queue {queue_name!r}: the `lp` command "
                                     "is not installed (Debian package cups-client)")

    def close(self) -> None:
        """Submit what was printed so far with `lp -o raw`, so CUPS passes the bytes through untouched."""
        job = self.output
        if not job:
            return
        self.clear()
        try:
            completed = subprocess.run([self.lp_command, "-d", self.queue_name, "-o", "raw"], input=job,
                                       capture_output=True, timeout=CUPS_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PrinterUnavailable(f"lp failed for CUPS queue {self.queue_name!r}: {error}") from error
        if completed.returncode != 0:
            message = completed.stderr.decode(errors="replace").strip() or f"exit status {completed.returncode}"
            raise PrinterUnavailable(f"lp refused the job for CUPS queue {self.queue_name!r}: {message}")


def print_slip(printer: Escpos, image: Image.Image) -> None:
    """Print a rendered slip as a GS v 0 raster image, then feed it past the cutter and cut."""
    # python-escpos prints a warning on stdout for every image when the profile does not know the paper
    # width; the slip is rendered at exactly the paper width, so tell the profile (this printer's copy only)
    printer.profile.profile_data = {
        **printer.profile.profile_data,
        "media": {"dpi": 203, "width": {"mm": "Unknown", "pixels": image.width}},
    }
    printer.hw("INIT")  # reset modes a previous job or another program may have left set
    # GS v 0 raster is the image command the widest range of printers accepts: some cheap 58 mm models
    # accept nothing else (python-escpos#508), GS ( L is an Epson-era addition many clones lack, and ESC *
    # column bands can leave white gaps between bands (python-escpos#687)
    printer.image(image, impl="bitImageRaster")
    printer.cut()


def slip_bytes(image: Image.Image) -> bytes:
    """Return the exact ESC/POS bytes print_slip sends for this image."""
    printer = Dummy()
    print_slip(printer, image)
    return printer.output


def _parse_network(uri: str, parts) -> PrinterAddress:
    """Validate network://HOST[:PORT]."""
    try:
        port = DEFAULT_NETWORK_PORT if parts.port is None else parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(f"network printer URI {uri!r} has a bad port; use network://HOST:PORT")
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.username:
        raise ValueError(f"network printer URI {uri!r} must be network://HOST:PORT")
    return PrinterAddress(kind="network", host=parts.hostname, port=port)


def _parse_usb(uri: str, parts) -> PrinterAddress:
    """Validate usb://VID:PID with both ids in hexadecimal, as lsusb shows them."""
    ids = parts.netloc.split(":")
    try:
        vendor_id, product_id = (int(value, 16) for value in ids)
    except ValueError:
        raise ValueError(f"USB printer URI {uri!r} must be usb://VID:PID in hex, e.g. usb://04b8:0202") from None
    if not (0 < vendor_id <= 0xFFFF and 0 < product_id <= 0xFFFF) or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"USB printer URI {uri!r} must be usb://VID:PID in hex, e.g. usb://04b8:0202")
    return PrinterAddress(kind="usb", vendor_id=vendor_id, product_id=product_id)


def _parse_serial(uri: str, parts) -> PrinterAddress:
    """Validate serial:///dev/NAME with an optional ?baudrate=N."""
    if parts.netloc or not parts.path.startswith("/dev/"):
        raise ValueError(f"serial printer URI {uri!r} must name a device: serial:///dev/ttyS0")
    options = parse_qs(parts.query, keep_blank_values=True)
    if set(options) - {"baudrate"}:
        raise ValueError(f"serial printer URI {uri!r} accepts only ?baudrate=N")
    baudrate_text = options.get("baudrate", [str(DEFAULT_SERIAL_BAUDRATE)])[-1]
    if not baudrate_text.isdigit() or int(baudrate_text) == 0:
        raise ValueError(f"serial printer URI {uri!r} has a bad baudrate {baudrate_text!r}")
    return PrinterAddress(kind="serial", path=unquote(parts.path), baudrate=int(baudrate_text))


def error_message(error: BaseException) -> str:
    """Squeeze an exception into one line, since escpos messages carry newlines."""
    return " ".join(str(error).split()) or type(error).__name__
