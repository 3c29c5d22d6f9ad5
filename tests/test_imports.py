import subprocess
import sys


def test_import_loads_only_what_the_call_needs():
    """Check that ``import sklstm`` leaves optuna, matplotlib and skorch unloaded."""
    code = (
        "import sys, sklstm; "
        "print(sorted(m for m in ('optuna', 'matplotlib', 'skorch') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
