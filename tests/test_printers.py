"""Slip layout, ESC/POS bytes, printer URIs, drivers and the spooler, with real sockets and files."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
import unicodedata
from dataclasses import replace

import pytest
import segno
from PIL import Image, ImageChops

from printers import drivers
from printers.drivers import (PrinterUnavailable, open_printer, parse_printer_uri, print_slip,
                              slip_bytes)
from printers.slip import (LABELS, LAYOUTS, WIDTH_58MM_PX, WIDTH_80MM_PX, SlipData, _font, _text_block, body_lines,
                           render_slip, wait_range_minutes, wrap_text)
from printers.render_example import EXAMPLE_SLIP
from printers.spooler import STOPPED_MESSAGE, PrintSpooler

TRACK_URL = "http://192.168.1.10:5000/t/3f9a2c7e1b4d4e0f8a6b5c2d"
FAST_RETRIES = (0.05, 0.1, 0.2)


def make_slip(**changes) -> SlipData:
    """Return the typical Vietnamese example slip, with any fields changed."""
    return replace(EXAMPLE_SLIP, **{"track_url": TRACK_URL, **changes})


def decode_escpos(data: bytes) -> tuple[Image.Image, list[bytes]]:
    """Decode print_slip's byte stream: GS v 0 rasters stacked into one image, plus the other commands seen."""
    position, bands, commands = 0, [], []
    while position < len(data):
        if data.startswith(b"\x1b@", position):  # ESC @ initialise
            commands.append(b"\x1b@")
            position += 2
        elif data.startswith(b"\x1dv0", position):  # GS v 0 m xL xH yL yH d1...dk
            mode = data[position + 3]
            width_bytes = data[position + 4] + 256 * data[position + 5]
            height = data[position + 6] + 256 * data[position + 7]
            assert mode == 0, "normal density expected"
            raster = data[position + 8: position + 8 + width_bytes * height]
            assert len(raster) == width_bytes * height, "raster data cut short"
            # in ESC/POS a set bit burns a dot (black); in a mode "1" image a set bit is white
            band = Image.frombytes("1", (width_bytes * 8, height), bytes(255 - byte for byte in raster))
            bands.append(band)
            position += 8 + len(raster)
        elif data.startswith(b"\x1bd", position):  # ESC d n: print and feed n lines
            commands.append(data[position: position + 3])
            position += 3
        elif data.startswith(b"\x1dV", position):  # GS V m: cut
            commands.append(data[position: position + 3])
            position += 3
        else:
            raise AssertionError(f"unexpected byte {data[position]:#04x} at {position}")
    assert bands, "no raster image in the stream"
    image = Image.new("1", (bands[0].width, sum(band.height for band in bands)), 1)
    y = 0
    for band in bands:
        assert band.width == image.width
        image.paste(band, (0, y))
        y += band.height
    return image, commands


def same_pixels(first: Image.Image, second: Image.Image) -> bool:
    """Tell whether two black-and-white images are identical dot for dot."""
    if first.size != second.size:
        return False
    return ImageChops.difference(first.convert("L"), second.convert("L")).getbbox() is None


class CollectingPrinter:
    """A pretend network printer: a real TCP listener on 127.0.0.1 keeping the bytes of each connection."""

    def __init__(self, port: int = 0) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(5)
        self.port = self.listener.getsockname()[1]
        self.jobs: list[bytes] = []
        self.job_arrived = threading.Condition()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def uri(self) -> str:
        return f"network://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                chunks = []
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
            with self.job_arrived:
                self.jobs.append(b"".join(chunks))
                self.job_arrived.notify_all()

    def wait_for_jobs(self, count: int, timeout_s: float = 5.0) -> list[bytes]:
        with self.job_arrived:
            assert self.job_arrived.wait_for(lambda: len(self.jobs) >= count, timeout_s), self.jobs
            return list(self.jobs)

    def close(self) -> None:
        # shutdown wakes the thread blocked in accept(); close alone does not on Linux
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(2)


class Results:
    """Collects on_done calls from a spooler's thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool, str | None, float]] = []
        self.changed = threading.Condition()

    def __call__(self, job_id: str, ok: bool, error: str | None) -> None:
        with self.changed:
            self.calls.append((job_id, ok, error, time.monotonic()))
            self.changed.notify_all()

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[tuple[str, bool, str | None, float]]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.calls) >= count, timeout_s), self.calls
            return list(self.calls)


def unused_port() -> int:
    """Return a local port where nothing listens, so a connect there is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def collector():
    printer = CollectingPrinter()
    yield printer
    printer.close()


# --- slip data --------------------------------------------------------------------------------------------


def test_slip_travels_as_json_and_comes_back_equal():
    slip = make_slip()
    assert SlipData.from_dict(json.loads(json.dumps(slip.to_dict(), ensure_ascii=False))) == slip
    assert SlipData.from_dict({**slip.to_dict(), "added_by_a_newer_server": 1}) == slip
    without_lang = {key: value for key, value in slip.to_dict().items() if key != "lang"}
    assert SlipData.from_dict(without_lang).lang == "vi"


@pytest.mark.parametrize("changes, message", [
    ({"people_ahead": "7"}, "people_ahead"),
    ({"people_ahead": True}, "people_ahead"),
    ({"wait_low_min": -1}, "wait_low_min"),
    ({"wait_low_min": 20, "wait_high_min": 15}, "exceed"),
    ({"wait_low_min": None, "wait_high_min": 15}, "both"),
    ({"wait_low_min": 5, "wait_high_min": None}, "both"),
    ({"wait_low_min": "5"}, "wait_low_min"),
    ({"ticket_number": 12}, "ticket_number"),
    ({"ticket_number": " "}, "ticket_number"),
    ({"priority_label": 1}, "priority_label"),
    ({"lang": "fr"}, "lang"),
    ({"track_url": ""}, "track_url"),
])
def test_from_dict_rejects_bad_values(changes, message):
    with pytest.raises(ValueError, match=message):
        SlipData.from_dict({**make_slip().to_dict(), **changes})


def test_from_dict_rejects_missing_fields_and_non_objects():
    data = make_slip().to_dict()
    del data["footer"]
    with pytest.raises(ValueError, match="missing footer"):
        SlipData.from_dict(data)
    with pytest.raises(ValueError, match="JSON object"):
        SlipData.from_dict(["A012"])


def test_a_slip_without_a_forecast_travels_with_null_waits():
    slip = make_slip(wait_low_min=None, wait_high_min=None)
    assert SlipData.from_dict(json.loads(json.dumps(slip.to_dict()))) == slip


# --- the wait in minutes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("range_s, minutes", [
    ([16 * 60, 22 * 60], (15, 25)),      # low down, high up, to the 5-minute grid
    ([15 * 60, 25 * 60], (15, 25)),      # already on the grid: unchanged
    ([15 * 60 + 1, 25 * 60 + 1], (15, 30)),
    ([0, 150], (0, 10)),                 # next in line still waits for the current citizen
    ([0, 11 * 60], (0, 15)),
    ([40 * 60, 41 * 60], (40, 45)),      # never a range of zero width
    ([-30, 90], (0, 10)),
])
def test_wait_range_is_rounded_to_five_minutes(range_s, minutes):
    assert wait_range_minutes(range_s) == minutes


def test_no_forecast_has_no_minutes():
    assert wait_range_minutes(None) is None


def contains_block(page: Image.Image, block: Image.Image) -> bool:
    """Tell whether a full-width block, thresholded as the slip is, appears dot for dot somewhere on the page."""
    block = block.convert("1", dither=Image.Dither.NONE)
    return any(same_pixels(page.crop((0, y, page.width, y + block.height)), block)
               for y in range(page.height - block.height + 1))


@pytest.mark.parametrize("lang, expected", [
    ("vi", ["Số người đang chờ trước bạn: 7", "Thời gian chờ dự kiến: khoảng\u00a015–25\u00a0phút"]),
    ("en", ["People waiting ahead of you: 7", "Estimated wait: about\u00a015–25\u00a0min"]),
])
def test_the_slip_prints_people_ahead_and_the_wait_range(lang, expected):
    slip = make_slip(wait_low_min=15, wait_high_min=25, lang=lang)
    assert body_lines(slip)[:2] == expected
    layout = LAYOUTS[WIDTH_80MM_PX]
    line = _text_block(expected[1], _font(bold=False, size=layout.body_size), WIDTH_80MM_PX,
                       WIDTH_80MM_PX - 2 * layout.margin)
    decoded, _ = decode_escpos(slip_bytes(render_slip(slip, WIDTH_80MM_PX)))
    assert contains_block(decoded, line)


@pytest.mark.parametrize("width_px", [WIDTH_80MM_PX, WIDTH_58MM_PX])
def test_without_an_open_counter_the_slip_says_so_instead_of_a_time(width_px):
    slip = make_slip(people_ahead=3, wait_low_min=None, wait_high_min=None)
    sentence = "Chưa có quầy mở — vui lòng theo dõi màn hình"
    assert body_lines(slip)[:2] == ["Số người đang chờ trước bạn: 3", sentence]
    layout = LAYOUTS[width_px]
    body_font = _font(bold=False, size=layout.body_size)
    printed, _ = decode_escpos(slip_bytes(render_slip(slip, width_px)))
    assert contains_block(printed, _text_block(sentence, body_font, width_px, width_px - 2 * layout.margin))
    with_time = render_slip(make_slip(people_ahead=3), width_px)
    assert not contains_block(with_time, _text_block(sentence, body_font, width_px, width_px - 2 * layout.margin))
    assert body_lines(make_slip(wait_low_min=None, wait_high_min=None, lang="en"))[1] == LABELS["en"]["no_counter"]


# --- layout -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width_px", [WIDTH_80MM_PX, WIDTH_58MM_PX])
def test_slip_renders_at_paper_width_in_black_and_white(width_px):
    image = render_slip(make_slip(), width_px)
    assert image.mode == "1"
    assert image.width == width_px
    assert width_px < image.height < 3 * width_px
    black = image.histogram()[0]
    assert 0.05 < black / (image.width * image.height) < 0.5


def test_slip_rejects_other_widths():
    with pytest.raises(ValueError, match="576"):
        render_slip(make_slip(), 512)


def test_priority_and_language_change_the_slip():
    plain = render_slip(make_slip(priority_label=None))
    assert same_pixels(render_slip(make_slip(priority_label="  ")), plain)
    assert render_slip(make_slip()).height > plain.height
    assert not same_pixels(render_slip(make_slip(priority_label=None, lang="en")), plain)


def test_long_vietnamese_lines_wrap_within_the_paper():
    font = _font(bold=False, size=24)
    text = "Đăng ký khai sinh, kết hôn, nhận cha mẹ con và cấp bản sao trích lục hộ tịch " * 3
    lines = wrap_text(text, font, 360)
    assert len(lines) > 3
    assert all(font.getlength(line) <= 360 for line in lines)
    assert " ".join(lines) == " ".join(text.split())
    long_word = "x" * 200
    assert all(font.getlength(line) <= 100 for line in wrap_text(long_word, font, 100))
    assert "".join(wrap_text(long_word, font, 100)) == long_word


def test_decomposed_input_renders_like_precomposed():
    decomposed = unicodedata.normalize("NFD", "Tư pháp – Hộ tịch")
    assert same_pixels(render_slip(make_slip(service_name=decomposed)), render_slip(make_slip()))


@pytest.mark.parametrize("width_px", [WIDTH_80MM_PX, WIDTH_58MM_PX])
def test_qr_on_the_slip_is_segnos_matrix_for_the_track_url(width_px):
    # no QR decoder is installed, so find segno's own symbol, centred, dot for dot on the slip
    slip_image = render_slip(make_slip(), width_px)
    code = segno.make(TRACK_URL, error="m", micro=False)
    rows = list(code.matrix_iter(scale=1, border=4))
    matrix = Image.new("1", (len(rows), len(rows)), 1)
    matrix.putdata([0 if dark else 1 for row in rows for dark in row])
    found = []
    for module_px in range(1, 12):
        symbol = matrix.resize((matrix.width * module_px, matrix.height * module_px), Image.Resampling.NEAREST)
        left = (width_px - symbol.width) // 2
        if left < 0:
            break
        first_row = symbol.crop((0, 0, symbol.width, 1)).tobytes()
        for top in range(slip_image.height - symbol.height + 1):
            if slip_image.crop((left, top, left + symbol.width, top + 1)).tobytes() != first_row:
                continue
            if same_pixels(slip_image.crop((left, top, left + symbol.width, top + symbol.height)), symbol):
                found.append((module_px, top))
    assert len(found) == 1, found
    module_px, _ = found[0]
    assert module_px >= 4, "modules under 0.5 mm scan badly from thermal paper"


# --- ESC/POS bytes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("width_px", [WIDTH_80MM_PX, WIDTH_58MM_PX])
def test_escpos_raster_decodes_back_to_the_slip_image(width_px):
    image = render_slip(make_slip(), width_px)
    decoded, commands = decode_escpos(slip_bytes(image))
    assert same_pixels(decoded, image)
    assert commands[0] == b"\x1b@"
    assert commands[-2:] == [b"\x1bd\x06", b"\x1dV\x00"], "feed past the cutter, then cut"


def test_tall_slips_are_sent_in_several_raster_bands():
    image = render_slip(make_slip(footer="Dòng chân trang rất dài. " * 60))
    assert image.height > 960
    data = slip_bytes(image)
    assert data.count(b"\x1dv0") >= 2
    decoded, _ = decode_escpos(data)
    assert same_pixels(decoded, image)


def test_print_slip_writes_nothing_on_stdout(capsys):
    slip_bytes(render_slip(make_slip()))
    assert capsys.readouterr().out == ""


# --- printer URIs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("uri, expected", [
    ("network://192.168.1.50:9100", {"kind": "network", "host": "192.168.1.50", "port": 9100}),
    ("network://printer.local", {"kind": "network", "host": "printer.local", "port": 9100}),
    ("network://10.0.0.7:9101", {"kind": "network", "port": 9101}),
    ("usb://04b8:0202", {"kind": "usb", "vendor_id": 0x04B8, "product_id": 0x0202}),
    ("usb://0x0416:0x5011", {"kind": "usb", "vendor_id": 0x0416, "product_id": 0x5011}),
    ("serial:///dev/ttyS0", {"kind": "serial", "path": "/dev/ttyS0", "baudrate": 9600}),
    ("serial:///dev/ttyUSB0?baudrate=19200", {"kind": "serial", "path": "/dev/ttyUSB0", "baudrate": 19200}),
    ("file:///var/spool/slips/kiosk-1.bin", {"kind": "file", "path": "/var/spool/slips/kiosk-1.bin"}),
    ("cups://Kiosk_Printer", {"kind": "cups", "queue_name": "Kiosk_Printer"}),
    ("agent", {"kind": "agent"}),
    ("none", {"kind": "none"}),
])
def test_valid_printer_uris_parse(uri, expected):
    address = parse_printer_uri(uri)
    assert {name: getattr(address, name) for name in expected} == expected


@pytest.mark.parametrize("uri", [
    "", "   ", "printer", "Agent", "http://192.168.1.50", "network://", "network://host:0", "network://host:99999",
    "network://host:port", "network://host:9100/path", "usb://04b8", "usb://zzzz:0202", "usb://04b8:0202:01",
    "usb://0:0", "serial://ttyS0", "serial:///tmp/x", "serial:///dev/ttyS0?baudrate=fast",
    "serial:///dev/ttyS0?parity=odd", "file://relative/path", "file:relative", "cups://", "cups://a/b",
])
def test_invalid_printer_uris_raise_readable_value_errors(uri):
    with pytest.raises(ValueError) as raised:
        parse_printer_uri(uri)
    assert len(str(raised.value)) > 20
    with pytest.raises(ValueError):
        open_printer(uri)


def test_agent_uri_cannot_be_opened_here():
    with pytest.raises(ValueError, match="agent"):
        open_printer("agent")
    with pytest.raises(ValueError, match="agent"):
        PrintSpooler("agent")


# --- drivers ----------------------------------------------------------------------------------------------


def test_none_printer_prints_nothing_and_reports_success(tmp_path):
    assert open_printer("none") is None
    results = Results()
    spooler = PrintSpooler("none")
    spooler.submit("job-1", make_slip(), results)
    assert results.wait_for(1)[0][:3] == ("job-1", True, None)
    spooler.stop()
    assert list(tmp_path.iterdir()) == []


def test_file_printer_writes_the_slip_bytes(tmp_path):
    image = render_slip(make_slip())
    target = tmp_path / "slip.bin"
    printer = open_printer(f"file://{target}")
    print_slip(printer, image)
    printer.close()
    assert target.read_bytes() == slip_bytes(image)


def test_file_printer_in_a_missing_directory_is_unavailable(tmp_path):
    with pytest.raises(PrinterUnavailable, match="missing"):
        open_printer(f"file://{tmp_path}/missing/slip.bin")


def test_network_printer_receives_exactly_the_slip_bytes(collector):
    image = render_slip(make_slip(), WIDTH_58MM_PX)
    printer = open_printer(collector.uri)
    print_slip(printer, image)
    printer.close()
    assert collector.wait_for_jobs(1) == [slip_bytes(image)]


def test_cups_printer_pipes_raw_bytes_to_lp(tmp_path, monkeypatch):
    bin_directory = tmp_path / "bin"
    bin_directory.mkdir()
    fake_lp = bin_directory / "lp"
    fake_lp.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib\n"
        f"pathlib.Path({str(tmp_path / 'lp-args')!r}).write_text(' '.join(sys.argv[1:]))\n"
        f"pathlib.Path({str(tmp_path / 'lp-input')!r}).write_bytes(sys.stdin.buffer.read())\n"
        "print('request id is Kiosk-7 (0 file(s))')\n")
    fake_lp.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_directory))
    image = render_slip(make_slip())
    printer = open_printer("cups://Kiosk")
    print_slip(printer, image)
    printer.close()
    assert (tmp_path / "lp-args").read_text() == "-d Kiosk -o raw"
    assert (tmp_path / "lp-input").read_bytes() == slip_bytes(image)


def test_cups_printer_without_lp_is_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrinterUnavailable, match="`lp`"):
        open_printer("cups://Kiosk")


# --- spooler ----------------------------------------------------------------------------------------------


def test_spooler_prints_each_job_on_a_fresh_connection(collector):
    results = Results()
    spooler = PrintSpooler(collector.uri, WIDTH_80MM_PX, retry_delays_s=FAST_RETRIES)
    first, second = make_slip(ticket_number="A012"), make_slip(ticket_number="A013")
    spooler.submit("job-1", first, results)
    spooler.submit("job-2", second, results)
    assert [call[:3] for call in results.wait_for(2)] == [("job-1", True, None), ("job-2", True, None)]
    assert collector.wait_for_jobs(2) == [slip_bytes(render_slip(first)), slip_bytes(render_slip(second))]
    spooler.stop()


def test_printer_down_reports_failure_after_bounded_retries_then_recovers(caplog):
    caplog.set_level(logging.WARNING, logger="printers.spooler")
    port = unused_port()
    results = Results()
    spooler = PrintSpooler(f"network://127.0.0.1:{port}", retry_delays_s=FAST_RETRIES)
    started = time.monotonic()
    spooler.submit("job-down", make_slip(), results)
    assert time.monotonic() - started < 0.05, "submit must not wait for the printer"
    job_id, ok, error, finished = results.wait_for(1, timeout_s=5)[0]
    assert (job_id, ok) == ("job-down", False)
    assert f"127.0.0.1:{port}" in error and "3 attempts" in error
    assert finished - started < 2
    assert len([record for record in caplog.records if "job-down attempt" in record.getMessage()]) == 3

    # the printer is switched on again at the same address: the next job prints
    printer = CollectingPrinter(port)
    try:
        spooler.submit("job-back", make_slip(), results)
        assert results.wait_for(2)[1][:3] == ("job-back", True, None)
        assert printer.wait_for_jobs(1) == [slip_bytes(render_slip(make_slip()))]
    finally:
        printer.close()
        spooler.stop()


def test_a_hung_printer_blocks_neither_the_caller_nor_other_printers(collector, monkeypatch):
    monkeypatch.setattr(drivers, "NETWORK_CONNECT_TIMEOUT_S", 1.0)
    # a listener with a full backlog leaves new connections hanging, like a printer that lost its network
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(0)
    filler = socket.create_connection(hung.getsockname())
    hung_results, good_results = Results(), Results()
    hung_spooler = PrintSpooler(f"network://127.0.0.1:{hung.getsockname()[1]}", attempts=1)
    good_spooler = PrintSpooler(collector.uri)
    try:
        started = time.monotonic()
        hung_spooler.submit("stuck", make_slip(), hung_results)
        hung_spooler.submit("queued-behind", make_slip(), hung_results)
        good_spooler.submit("fine", make_slip(), good_results)
        assert time.monotonic() - started < 0.05
        assert good_results.wait_for(1, timeout_s=2)[0][:3] == ("fine", True, None)
        assert hung_results.calls == [], "the hung printer is still trying"
        calls = hung_results.wait_for(2, timeout_s=5)
        assert [call[:2] for call in calls] == [("stuck", False), ("queued-behind", False)]
        assert "timed out" in calls[0][2]
    finally:
        good_spooler.stop()
        hung_spooler.stop()
        filler.close()
        hung.close()


def test_render_failures_are_reported_without_retrying(collector):
    results = Results()
    spooler = PrintSpooler(collector.uri)
    spooler.submit("too-long", make_slip(track_url="http://x/" + "y" * 5000), results)
    job_id, ok, error, _ = results.wait_for(1)[0]
    assert (job_id, ok) == ("too-long", False)
    assert "cannot render" in error
    assert collector.jobs == []
    spooler.stop()


def test_a_failing_callback_does_not_stop_the_spooler(collector):
    def exploding_callback(job_id, ok, error):
        raise RuntimeError("caller bug")

    results = Results()
    spooler = PrintSpooler(collector.uri)
    spooler.submit("first", make_slip(), exploding_callback)
    spooler.submit("second", make_slip(), results)
    assert results.wait_for(1)[0][:3] == ("second", True, None)
    spooler.stop()


def test_stop_ends_the_thread_and_later_jobs_are_refused(collector):
    results = Results()
    spooler = PrintSpooler(collector.uri)
    assert spooler.running
    spooler.stop()
    assert not spooler.running
    spooler.submit("late", make_slip(), results)
    assert results.wait_for(1)[0][:3] == ("late", False, STOPPED_MESSAGE)


def test_spooler_rejects_bad_settings():
    with pytest.raises(ValueError, match="width"):
        PrintSpooler("none", width_px=500)
    with pytest.raises(ValueError, match="attempts"):
        PrintSpooler("none", attempts=0)
    with pytest.raises(ValueError):
        PrintSpooler("bogus://x")
