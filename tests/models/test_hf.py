import os

import transformers

from beliefs.models import hf


def test_tokenizer_is_shared_until_its_folder_changes(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        transformers.AutoTokenizer,
        "from_pretrained",
        lambda location, trust_remote_code=False: calls.append(location) or object(),
    )
    monkeypatch.setattr(hf, "_LAST_TOKENIZER", [])
    (tmp_path / "tokenizer.json").write_text("{}")
    first = hf._tokenizer(str(tmp_path), False)
    assert hf._tokenizer(str(tmp_path), False) is first and len(calls) == 1  # a model, then its control
    assert hf._tokenizer(str(tmp_path), True) is not first and len(calls) == 2  # other options
    (tmp_path / "tokenizer.json").write_text('{"edited": 1}')
    os.utime(tmp_path / "tokenizer.json", ns=(1, 1))
    assert hf._tokenizer(str(tmp_path), True) is not first and len(calls) == 3  # an edited tokenizer
