"""Feature tables as data sets: ``.csv``, ``.tsv`` and ``.parquet`` files, one row per sample.

``load_dataset("har.csv", sensitive="subject", label="activity")`` and ``fairclust run
--dataset har.csv --sensitive subject [--label activity] [--one-hot] [--features a,b,c]``:

* ``sensitive`` (required): the column of group values (numbers or strings; any number
  of groups). Its values are kept as they are (integral floats become integers). Several
  sensitive attributes: ``--sensitive sex,race`` (a list in Python); the data set then carries
  each one (:mod:`fairclust.attributes`).
* ``label`` (optional): the column of classes, for accuracy and NMI; stored as integer
  codes in the sorted order of its values.
* the features are every other column (or those named by ``features``), as ``N x D``
  float32. Numeric and boolean columns are used as they are (the networks and the baselines on the
  shared encoder standardise them; ``feature_space="raw"`` sees them unscaled). Other columns (strings, dates, ...) are refused, naming
  them, unless ``one_hot=True``: then each becomes one 0/1 column per distinct value.
* missing values (empty cells, NaN) or infinities in a used column are refused, naming
  the column and the first such row; drop or fill them first.

Which ``.csv`` files are tables: a ``.csv`` is a table when ``sensitive`` (or ``label``,
``one_hot``, ``features``) is given. Without them it is an image-folder index
(:mod:`fairclust.data.folder`) when its first cell is ``path`` or names an image file
(an image suffix, or an existing file next to the CSV); any other ``.csv`` is taken as a
table and refused with a message asking for ``--sensitive``. ``.tsv`` and ``.parquet``
(``.pq``) files are always tables. Parquet needs ``pyarrow`` (``pip install pyarrow``).
"""

from __future__ import annotations

import csv
import difflib
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import DataFileError, FairclustError
from .registry import Dataset, with_attributes

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
TABLE_OPTIONS = ("sensitive", "label", "one_hot", "features")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm")
_SHOW = 12  # columns listed in a message before "..."


def table_options_given(kwargs: dict) -> bool:
    return any(kwargs.get(k) not in (None, False, (), []) for k in TABLE_OPTIONS)


def looks_like_image_index(path: Path) -> bool:
    """Whether a ``.csv`` without table options is an image-folder index (see the module docstring)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            first = next((r for r in csv.reader(fh) if r and any(c.strip() for c in r)), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return True  # let the image-folder reader report the problem, as before
    if not first:
        return True
    cell = first[0].strip()
    if cell.lower() == "path" or cell.lower().endswith(IMAGE_SUFFIXES):
        return True
    try:
        p = Path(cell)
        return p.is_file() if p.is_absolute() else (path.parent / p).is_file()
    except (OSError, ValueError):
        return False


def _columns_text(columns: Sequence[str]) -> str:
    shown = ", ".join(columns[:_SHOW])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > _SHOW else "")


def _read_frame(path: Path):

    if not path.is_file():
        raise DataFileError(f"data file {str(path)!r} does not exist; pass an existing .csv, .tsv or .parquet table")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                try:
                    import fastparquet  # noqa: F401
                except ImportError:
                    raise FairclustError(f"reading the Parquet file {str(path)!r} needs pyarrow; install it with "
                                         "`pip install pyarrow` (or `pip install 'fairclust[parquet]'`)") from None
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", encoding="utf-8-sig")
    except FairclustError:
        raise
    except Exception as exc:  # pandas / pyarrow parse errors of many kinds
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise DataFileError(f"{str(path)!r} is not a readable {suffix[1:]} table ({first}); write it with a header "
                            "row and one row per sample (e.g. pandas DataFrame.to_csv(index=False))") from None
    df.columns = [str(c) for c in df.columns]
    if df.shape[0] == 0:
        raise DataFileError(f"{str(path)!r} has no data rows; write a header row and one row per sample")
    return df


def _column(df, name: Any, option: str, path: Path) -> str:
    name = str(name)
    if name not in df.columns:
        close = difflib.get_close_matches(name, list(df.columns), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise FairclustError(f"{option} column {name!r} is not in {str(path)!r}{hint}; its columns are: "
                             f"{_columns_text(list(df.columns))}")
    return name


def _check_complete(df, columns: Sequence[str], path: Path) -> None:
    """Refuse missing values (and infinities in numeric columns) in the used columns."""

    bad = []
    first_row = None
    for c in columns:
        col = df[c]
        miss = col.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            miss = miss | np.isinf(col.to_numpy(dtype=np.float64, na_value=np.nan))
        if miss.any():
            bad.append(f"{c} ({int(miss.sum())})")
            r = int(np.flatnonzero(miss)[0]) + 1
            first_row = r if first_row is None else min(first_row, r)
    if bad:
        raise DataFileError(f"{str(path)!r} has missing or infinite values in column(s) {_columns_text(bad)}, first "
                            f"in data row {first_row}; drop or fill those rows first (e.g. pandas dropna/fillna)")


def _group_values(col) -> np.ndarray:
    """The sensitive column as an array: integers when every value is integral, else numbers or strings."""

    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=np.int64)
    if pd.api.types.is_numeric_dtype(col):
        v = col.to_numpy(dtype=np.float64)
        return v.astype(np.int64) if np.all(v == np.round(v)) else v
    return np.asarray([str(x) for x in col], dtype=str)


def _label_codes(col) -> np.ndarray:
    """Integer codes of the label column (numbers sorted numerically, strings as strings)."""

    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        values = col.to_numpy(dtype=np.float64)
    else:
        values = np.asarray([str(x) for x in col], dtype=str)
    return np.unique(values, return_inverse=True)[1].astype(np.int64).reshape(-1)


def _sensitive_names(df, sensitive: Any) -> list:
    """The sensitive column(s): a list, or a name; ``"a,b"`` names two columns unless a column is
    called ``"a,b"``."""
    if isinstance(sensitive, (list, tuple)):
        return list(sensitive)
    text = str(sensitive)
    if "," in text and text not in set(map(str, df.columns)):
        return [part.strip() for part in text.split(",") if part.strip()]
    return [sensitive]


def load_table(path: str | Path, *, sensitive: str | None = None, label: str | None = None, one_hot: bool = False,
               features: Sequence[str] | str | None = None, **_: Any) -> Dataset:
    """A feature table as a :class:`Dataset` (``kind="features"``); see the module docstring."""

    path = Path(path)
    df = _read_frame(path)
    if sensitive is None or str(sensitive) == "":
        raise FairclustError(f"{str(path)!r} is a table: name its group column with --sensitive COLUMN "
                             f"(sensitive=... in Python); its columns are: {_columns_text(list(df.columns))}")
    s_cols = [_column(df, c, "--sensitive", path) for c in _sensitive_names(df, sensitive)]
    y_col = None if label is None else _column(df, label, "--label", path)
    if y_col in s_cols:
        raise FairclustError(f"--label and --sensitive both name column {y_col!r}; the groups and the classes "
                             "must be different columns")
    if len(set(s_cols)) != len(s_cols):
        raise FairclustError(f"--sensitive names a column twice ({', '.join(map(str, s_cols))}); name each once")
    s_col = s_cols[0]
    if features is None:
        f_cols = [c for c in df.columns if c not in (*s_cols, y_col)]
    else:
        wanted = [f.strip() for f in features.split(",")] if isinstance(features, str) else list(features)
        f_cols = [_column(df, f, "--features", path) for f in wanted if str(f) != ""]
        taken = [c for c in f_cols if c in (*s_cols, y_col)]
        if taken:
            raise FairclustError(f"--features names {taken[0]!r}, the group or label column; leave it out of "
                                 "--features")
        f_cols = list(dict.fromkeys(f_cols))
    if not f_cols:
        raise FairclustError(f"{str(path)!r} has no feature columns besides {', '.join(map(repr, s_cols))}"
                             + (f" and {y_col!r}" if y_col else "") + "; add numeric columns")
    _check_complete(df, s_cols + ([y_col] if y_col else []) + f_cols, path)

    def numeric(c: str) -> bool:
        return pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])

    other = [c for c in f_cols if not numeric(c)]
    if other and not one_hot:
        raise FairclustError(f"{str(path)!r}: feature column(s) {_columns_text(other)} are not numeric; pass "
                             "--one-hot (one_hot=True) to encode them as 0/1 columns, or --features to leave them out")
    blocks, names = [], []  # names: what each column of X is (one-hot columns as 'column=value')
    for c in f_cols:
        if c in other:
            values = np.asarray([str(x) for x in df[c]], dtype=str)
            cats, codes = np.unique(values, return_inverse=True)
            blocks.append(np.eye(len(cats), dtype=np.float32)[codes.reshape(-1)])
            names += [f"{c}={v}" for v in cats]
        else:
            blocks.append(df[c].to_numpy(dtype=np.float32).reshape(-1, 1))
            names.append(c)
    X = np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=np.float32)
    if not np.isfinite(X).all():  # values beyond float32's range
        col = names[int(np.flatnonzero(~np.isfinite(X).all(0))[0])]
        raise DataFileError(f"{str(path)!r}: column {col!r} holds values beyond float32's range; rescale it")
    y = None if y_col is None else _label_codes(df[y_col])
    encoded = f", {len(other)} one-hot encoded" if other else ""
    if len(s_cols) > 1:  # several sensitive attributes
        return with_attributes(path.stem, X, {str(c): _group_values(df[c]) for c in s_cols}, y, kind="features",
                               description=f"table {path}: {X.shape[1]} features from {len(f_cols)} column(s)"
                                           f"{encoded}; sensitive attributes {', '.join(map(repr, s_cols))}"
                                           + (f", classes from {y_col!r}" if y_col else ""))
    sens = _group_values(df[s_col])
    groups = [str(g) for g in np.unique(sens)]
    return Dataset(name=path.stem, X=X, sensitive=sens, y=y, group_names=groups, sensitive_attribute=s_col,
                 kind="features",
                 description=f"table {path}: {X.shape[1]} features from {len(f_cols)} column(s){encoded}; "
                             f"groups from {s_col!r}" + (f", classes from {y_col!r}" if y_col else ""))
