import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quickstart_runs_as_pasted(capsys):
    """Check that the README's Python quickstart runs and prints good R² scores."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    quickstart = next(b for b in blocks if "cross_val_score" in b)
    exec(compile(quickstart, "README.md", "exec"), {})
    scores = [float(v) for v in re.findall(r"[-\d.]+", capsys.readouterr().out)]
    assert len(scores) == 3 and min(scores) > 0.8
