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


def test_the_library_never_imports_the_command_line():
    """Check that importing sklstm and using its library modules (save, load,
    tuning) loads nothing of sklstm.cli: the command depends on the library,
    never the reverse."""
    code = (
        "import sys, tempfile, numpy as np, sklstm, sklstm.tuning, sklstm.datasets; "
        "m = sklstm.LSTMRegressor(2, max_epochs=1).fit(np.ones((4, 3)), np.ones(4)); "
        "p = tempfile.mktemp(); sklstm.load(sklstm.save(m, p)); "
        "print(sorted(n for n in sys.modules if n.startswith('sklstm.cli')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
