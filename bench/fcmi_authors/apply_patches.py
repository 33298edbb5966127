"""Make a CPU copy of the authors' FCMI code (PengxinZeng/2023-CVPR-FCMI @ 9750ccf).

/tmp/fcmi-authors/src      pristine export of the snapshot (never edited)
/tmp/fcmi-authors/patched  the copy this script writes and edits (rebuilt from src every time)
/tmp/fcmi-authors/patches.diff  `diff -ru src patched` afterwards

Each edit is (file, old, new, expected count); the script stops if `old` does not occur
exactly that many times. See PATCHES.md for the why of each one.
"""
import shutil
import subprocess
from pathlib import Path

ROOT = Path("/tmp/fcmi-authors")
SRC, DST = ROOT / "src", ROOT / "patched"

EDITS = [
    # P1 -- no GPU: the path helper asks CUDA for the GPU's name at import time
    ("Utils/PathPresettingOperator.py", "import os\nimport torch\n", "import os\nimport sys\nimport torch\n", 1),
    ("Utils/PathPresettingOperator.py",
     "current_gpu = torch.cuda.get_device_name(torch.cuda.current_device())",
     "current_gpu = torch.cuda.get_device_name(torch.cuda.current_device()) if torch.cuda.is_available() else 'CPU'",
     2),
    ("Utils/PathPresettingOperator.py",
     "        else:  # limit@andy-lab\n",
     "        elif 'CPU' == current_gpu:  # [CPU patch] no GPU: scratch home under /tmp\n"
     "            home = os.environ.get('FCMI_HOME', '/tmp/fcmi-authors/home/')\n"
     "            __python_path = sys.executable\n"
     "            self.cuda_num = 0\n"
     "        else:  # limit@andy-lab\n",
     1),
    # P2 -- main.py: the network to the CPU; the launcher queue file that main.py removes at
    # the end only exists when started through MainLauncher's queue
    ("main.py", "args=args).cuda()", "args=args)  # [CPU patch] was .cuda()", 4),
    ("main.py", "    Queue.dequeue()\n",
     "    try:  # [CPU patch] no launcher queue when main.py is started directly\n"
     "        Queue.dequeue()\n"
     "    except FileNotFoundError:\n"
     "        pass\n", 1),
    # P3 -- data: an .npz (X: N x 1 x H x W in [0, 1], sensitive, y) as dataset 'NPZ', scaled as the
    # authors' digit sets (ToTensor -> Normalize([0.5], [0.5]), i.e. 2x - 1); no worker processes
    ("DataSetMaster/dataset.py", "NumWorkers = 4\n",
     "NumWorkers = 0  # [CPU patch] was 4: one process (single-thread CPU run); same sampling\n", 1),
    ("DataSetMaster/dataset.py",
     "    else:\n        raise NotImplementedError('split')\n",
     "    elif dataset == 'NPZ':  # [CPU patch] our data set from an .npz, kept in file order\n"
     "        z = np.load(os.environ['FCMI_NPZ'])\n"
     "        X = torch.from_numpy(np.ascontiguousarray(z['X'], dtype=np.float32))\n"
     "        if os.environ.get('FCMI_RESIZE28'):  # optional: the authors' 28 x 28 MNIST geometry\n"
     "            X = torch.nn.functional.interpolate(X, size=(28, 28), mode='bilinear', antialias=True)\n"
     "        X = (X - 0.5) / 0.5  # == ToTensor() then Normalize([0.5], [0.5]) of the digit sets\n"
     "        G = torch.from_numpy(np.asarray(z['sensitive']).astype(np.int64))\n"
     "        Y = torch.from_numpy(np.asarray(z['y']).astype(np.int64))\n"
     "        if args is not None:\n"
     "            args.input_hw = int(X.shape[-1])\n"
     "        idx = torch.arange(0, X.shape[0])\n"
     "        if group != -1:\n"
     "            keep = G == group\n"
     "            X, G, Y, idx = X[keep], G[keep], Y[keep], idx[keep]\n"
     "        data_set = data.TensorDataset(X, G, Y, idx)\n"
     "        class_num = int(np.unique(Y.numpy()).shape[0])\n"
     "    else:\n        raise NotImplementedError('split')\n", 1),
    # P4 -- optional plotting dependencies that do not exist / are not needed on this CPU
    ("Experiment/Visualize.py", "from tsnecuda import TSNE as TsneCuda\n",
     "try:  # [CPU patch] tsnecuda is GPU-only; only used with --DrawTSNE\n"
     "    from tsnecuda import TSNE as TsneCuda\n"
     "except ImportError:\n"
     "    TsneCuda = None\n", 1),
    ("evaluate.py", "import seaborn as sns\nimport scanpy as sc\n",
     "try:  # [CPU patch] only used by UMAP (--DrawUmap)\n"
     "    import seaborn as sns\n"
     "    import scanpy as sc\n"
     "except ImportError:\n"
     "    sns = sc = None\n", 1),
    ("evaluate.py", "    O = torch.zeros((class_num, group_num)).cuda()\n    E = torch.zeros((class_num, group_num)).cuda()\n",
     "    O = torch.zeros((class_num, group_num))  # [CPU patch] was .cuda()\n"
     "    E = torch.zeros((class_num, group_num))  # [CPU patch] was .cuda()\n", 1),
    # P5 -- the network file: CPU tensors, faiss on the CPU, and the 28x28 geometry made a parameter
    ("networkExplicitDecoupleShuffle.py", ".cuda()", "", 19),
    ("networkExplicitDecoupleShuffle.py", "device='cuda'", "device='cpu'", 3),
    ("networkExplicitDecoupleShuffle.py",
     "    res = faiss.StandardGpuResources()\n"
     "    cfg = faiss.GpuIndexFlatConfig()\n"
     "    cfg.useFloat16 = False\n"
     "    cfg.device = 0\n"
     "    index = faiss.GpuIndexFlatL2(res, d, cfg)\n",
     "    index = faiss.IndexFlatL2(d)  # [CPU patch] was faiss.GpuIndexFlatL2 (fp32, device 0)\n", 1),
    ("networkExplicitDecoupleShuffle.py", "        self.encoder_out_dim = 784\n",
     "        # [CPU patch] was 784 = 16 * 7 * 7 for 28 x 28 inputs; 16 * 8 * 8 for 32 x 32\n"
     "        self.input_hw = getattr(args, 'input_hw', 28)\n"
     "        self.feat_hw = (self.input_hw + 3) // 4\n"
     "        self.encoder_out_dim = 16 * self.feat_hw * self.feat_hw\n", 1),
    ("networkExplicitDecoupleShuffle.py", ".view(-1, 16, 7, 7)", ".view(-1, 16, self.feat_hw, self.feat_hw)", 2),
    ("networkExplicitDecoupleShuffle.py", "x_ = torch.zeros((len(z), 1, 28, 28), device='cpu')",
     "x_ = torch.zeros((len(z), 1, self.input_hw, self.input_hw), device='cpu')", 1),
]


def main() -> None:
    if DST.exists():
        shutil.rmtree(DST)
    shutil.copytree(SRC, DST, ignore=shutil.ignore_patterns("__pycache__", "*.png"))
    for rel, old, new, count in EDITS:
        p = DST / rel
        text = p.read_bytes().decode()  # keep CRLF files CRLF (no newline translation)
        if "\r\n" in text:
            old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
        found = text.count(old)
        if found != count:
            raise SystemExit(f"{rel}: expected {count} x {old!r}, found {found}")
        p.write_bytes(text.replace(old, new).encode())
    diff = subprocess.run(["diff", "-ru", "-x", "__pycache__", "-x", "*.png", "src", "patched"], cwd=ROOT,
                          capture_output=True, text=True).stdout
    (ROOT / "patches.diff").write_text(diff)
    print(f"patched {len(EDITS)} edits; diff: {len(diff.splitlines())} lines -> {ROOT / 'patches.diff'}")


if __name__ == "__main__":
    main()
