"""amp=auto: bf16 only where the hardware computes it natively (capabilities injected)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grokconsole.runs.precision import native_cpu_bf16, parse_cpu_flags, read_cpu_flags, resolve_amp

ZEN4 = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n"
XEON_NO_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_vnni\n"
SPR = "flags\t\t: avx512f amx_tile amx_int8 amx_bf16\n"
GRAVITON3 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"


@pytest.mark.parametrize(("text", "flag"), [(ZEN4, "avx512_bf16"), (SPR, "amx_bf16"), (GRAVITON3, "bf16"),
                                            (XEON_NO_BF16, None), ("", None)])
def test_native_bf16_flag_from_cpuinfo(text: str, flag: str | None) -> None:
    assert native_cpu_bf16(parse_cpu_flags(text)) == flag


def test_auto_on_cpu_follows_the_flags() -> None:
    assert resolve_amp("auto", "cpu", cpu_flags=parse_cpu_flags(ZEN4)).amp == "bf16"
    emulated = resolve_amp("auto", "cpu", cpu_flags=parse_cpu_flags(XEON_NO_BF16))
    assert emulated.amp == "off" and "no native bf16" in emulated.reason
    assert resolve_amp("auto", "cpu", cpu_flags=None).amp == "off"  # unknown CPU: fp32


def test_auto_on_cuda_follows_the_gpu() -> None:
    assert resolve_amp("auto", "cuda", cuda_bf16=True).amp == "bf16"
    assert resolve_amp("auto", "cuda", cuda_bf16=False).amp == "off"
    # the CPU's flags do not matter for a GPU run
    assert resolve_amp("auto", "cuda", cpu_flags=parse_cpu_flags(ZEN4), cuda_bf16=False).amp == "off"


def test_explicit_choices_are_kept() -> None:
    assert resolve_amp("bf16", "cpu", cpu_flags=parse_cpu_flags(XEON_NO_BF16)).amp == "bf16"
    assert resolve_amp("off", "cuda", cuda_bf16=True).amp == "off"
    with pytest.raises(ValueError):
        resolve_amp("fp16", "cpu")


def test_read_cpu_flags_of_a_missing_file_is_unknown(tmp_path: Path) -> None:
    assert read_cpu_flags(tmp_path / "nope") is None
    (tmp_path / "cpuinfo").write_text(XEON_NO_BF16)
    assert "avx512f" in read_cpu_flags(tmp_path / "cpuinfo")


def test_dry_run_shows_the_choice_without_importing_torch() -> None:
    code = ("import sys, json, io, contextlib\n"
            "from typer.testing import CliRunner\n"
            "from grokconsole.cli import app\n"
            "res = CliRunner().invoke(app, ['run', '--task', 'modarith', '--preset', 'grokfast', '--device', 'cpu',"
            " '--dry-run'])\n"
            "cfg = json.loads(res.output)\n"
            "print(cfg['amp'], cfg['amp_resolved'], 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    expected = "bf16" if native_cpu_bf16(read_cpu_flags()) else "off"
    assert out == ["auto", expected, "False"]
