"""A CPU-only PyTorch's device code: device objects for any device type, ``cuda``,
``backends`` and ``accelerator`` answering as a CPU-only build, the default device, and the
errors for putting a tensor or module anywhere but the CPU, each compared with torch (a CPU
build)."""

import pickle

import pytest

import gradienti

torch = pytest.importorskip("torch")


def _outcome(lib, expression: str, prefix: int = 0):
    """What ``expression`` gives with ``torch`` bound to ``lib``: ("ok", its repr) or the
    error's class and text (its first ``prefix`` characters where torch's text goes on with
    a list of build details)."""
    scope = {"torch": lib, "t": lib.tensor([1.0, 2.0]), "pickle": pickle}
    try:
        return "ok", repr(eval(expression, scope))
    except Exception as error:  # noqa: BLE001 - the class and text are what is compared
        text = str(error)
        return type(error).__name__, text[:prefix] if prefix else text.split("\n")[0]


def _same(expression: str, prefix: int = 0):
    ours = _outcome(gradienti, expression, prefix)
    assert ours == _outcome(torch, expression, prefix)
    return ours


DEVICE_OBJECTS = [
    "torch.device('cuda')",
    "torch.device('cuda:0')",
    "torch.device('cuda', 0)",
    "torch.device('cuda', index=2)",
    "torch.device(type='cuda', index=2)",
    "torch.device('cuda', None)",
    "torch.device('cpu')",
    "torch.device('cpu', 0)",
    "torch.device('mps')",
    "torch.device('meta')",
    "torch.device('xla')",
    "torch.device(torch.device('cuda:1'))",
    "(torch.device('cuda', 0).type, torch.device('cuda', 0).index)",
    "torch.device('cuda').index",
    "str(torch.device('cuda', 1))",
    "f'{torch.device(\"cuda:0\")}'",
    "torch.device('cuda:0') == torch.device('cuda', 0)",
    "torch.device('cuda') == torch.device('cuda:0')",
    "torch.device('cpu') == torch.device('cpu', 0)",
    "torch.device('cpu') == 'cpu'",
    "torch.device('cpu') == 3",
    "torch.device('cpu:0') != torch.device('cpu', 0)",
    "len({torch.device('cpu'), torch.device('cpu'), torch.device('cuda')})",
    "pickle.loads(pickle.dumps(torch.device('cuda', 1)))",
    # bad input: PyTorch's class and text
    "torch.device('gpu')",
    "torch.device('CUDA')",
    "torch.device('cuda:x')",
    "torch.device('cuda:01')",
    "torch.device('cuda:-1')",
    "torch.device('cuda:')",
    "torch.device('')",
    "torch.device('cuda', -1)",
    # the grammar first (Invalid device string), then the name (Expected one of ...: name)
    "torch.device('float64')",
    "torch.device('cuda0')",
    "torch.device('gpu:0')",
    "torch.device('gpu:x')",
    "torch.device('x_y')",
    "torch.device(':0')",
    "torch.device('cuda :0')",
    "t.to('float64')",
    "torch.device('cuda:0', 1)",
    "torch.device('cuda', 'a')",
    "torch.device('cuda', True)",
    "torch.device(0)",
    "torch.device(1.5)",
    "torch.device()",
]


@pytest.mark.parametrize("expression", DEVICE_OBJECTS)
def test_device_objects(expression):
    _same(expression)


NAMESPACES = [
    "torch.cuda.is_available()",
    "torch.cuda.device_count()",
    "torch.cuda.is_initialized()",
    "torch.cuda.is_bf16_supported()",
    "torch.cuda.is_bf16_supported(including_emulation=False)",
    "torch.cuda.manual_seed(0)",
    "torch.cuda.manual_seed_all(1234)",
    "torch.cuda.manual_seed('a')",
    "torch.cuda.seed()",
    "torch.cuda.seed_all()",
    "torch.cuda.empty_cache()",
    "torch.cuda.memory_allocated()",
    "torch.cuda.max_memory_allocated()",
    "torch.cuda.current_device()",
    "torch.cuda.get_device_name()",
    "torch.cuda.get_device_properties(0)",
    "torch.cuda.synchronize()",
    "torch.cuda.get_rng_state()",
    "torch.backends.mps.is_available()",
    "torch.backends.mps.is_built()",
    "torch.backends.cudnn.is_available()",
    "torch.backends.cudnn.version()",
    "torch.backends.cudnn.enabled",
    "torch.backends.cudnn.benchmark",
    "torch.backends.cudnn.deterministic",
    "torch.backends.cudnn.allow_tf32",
    "torch.backends.cuda.is_built()",
    "torch.backends.cuda.matmul.allow_tf32",
    "torch.accelerator.is_available()",
    "torch.accelerator.current_accelerator()",
    "torch.accelerator.device_count()",
    "torch.accelerator.current_device_index()",
    "torch.get_default_device()",
    "torch.get_float32_matmul_precision()",
]


@pytest.mark.parametrize("expression", NAMESPACES)
def test_cpu_only_namespaces(expression):
    _same(expression)


def test_backend_flags_keep_what_learners_set():
    """``torch.backends.cudnn.deterministic = True`` (reproducibility boilerplate) is kept."""
    cudnn = gradienti.backends.cudnn
    before = (cudnn.deterministic, cudnn.benchmark)
    try:
        cudnn.deterministic, cudnn.benchmark = True, False
        assert (cudnn.deterministic, cudnn.benchmark) == (True, False)
    finally:
        cudnn.deterministic, cudnn.benchmark = before


def test_float32_matmul_precision():
    try:
        for lib in (gradienti, torch):
            lib.set_float32_matmul_precision("high")
        assert gradienti.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
        for lib in (gradienti, torch):
            with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
                lib.set_float32_matmul_precision("bogus")
        assert gradienti.get_float32_matmul_precision() == "high"
    finally:
        for lib in (gradienti, torch):
            lib.set_float32_matmul_precision("highest")


MOVES = [
    "t.to('cpu') is t",
    "t.cpu() is t",
    "t.to(torch.device('cpu')) is t",
    "t.to('cpu:0') is t",
    "t.to(None) is t",
    "t.to(device=None) is t",
    "t.to('cpu', non_blocking=True) is t",
    "t.to('cpu', copy=True) is t",
    # a copy records PyTorch's node even where the dtype stays
    "torch.ones(2, requires_grad=True).to(copy=True)",
    "torch.ones(2, requires_grad=True).to('cpu:0')",
    "torch.ones(2, requires_grad=True).to(torch.float32, False, True)",
    "t.to('cpu', torch.float64)",
    "t.to(torch.device('cpu'), dtype=torch.float64)",
    "t.to(device='cpu', dtype=torch.int32)",
    "t.to(dtype=torch.float64, non_blocking=True)",
    "t.to(torch.float64, True, True)",
    "t.to('cpu', torch.float64, False, True)",
    "t.to(torch.ones(2, dtype=torch.int64))",
    "t.is_cuda",
    "t.device",
    "t.get_device()",
    "t.cuda()",
    "t.cuda(non_blocking=True)",
    "t.cuda(device='cuda')",
    "t.cuda(0)",
    "t.to('cuda')",
    "t.to('cuda:0')",
    "t.to(torch.device('cuda'))",
    "t.to(device='cuda')",
    "t.to('cuda', torch.float64)",
    "t.to('xpu')",
    "t.to('xla')",
    "t.to('gpu')",
    "t.to(1)",
    "t.to(0)",
]


@pytest.mark.parametrize("expression", MOVES)
def test_tensor_moves(expression):
    _same(expression)


def test_mps_as_pytorch_has_no_kernel_for_it():
    # PyTorch's message goes on with its list of dispatch keys: the first sentence is compared
    _same("t.to('mps')")
    _same("t.to('mps:0')", prefix=85)
    _same("torch.tensor([1.0], device='mps')")
    _same("torch.zeros(2, device='mps')", prefix=95)


CREATION = [
    "torch.zeros(2, device='cpu')",
    "torch.zeros(2, device=torch.device('cpu'))",
    "torch.ones(2, device='cpu:0')",
    "torch.tensor([1.0], device='cpu')",
    "torch.zeros(2, device='cuda')",
    "torch.zeros(2, device='cuda:0')",
    "torch.zeros(2, device=torch.device('cuda'))",
    "torch.tensor([1], device='cuda')",
    "torch.tensor(1.0, device='cuda')",
    "torch.as_tensor([1.0], device='cuda')",
    "torch.randn(2, device='cuda')",
    "torch.rand(2, device='cuda')",
    "torch.arange(3, device='cuda')",
    "torch.full((2,), 1.0, device='cuda')",
    "torch.empty(2, device='xpu')",
    "torch.zeros(2, device=0)",
    "torch.empty(2, device=-1)",
    "torch.zeros(2, device=True)",
    "torch.zeros(2, device=1.0)",
    "torch.tensor([1.0], device='xla')",
    "torch.ones(2).new_zeros(2, device='cuda')",
]


@pytest.mark.parametrize("expression", CREATION)
def test_device_keyword_of_factories(expression):
    _same(expression)


def test_default_device():
    for lib in (gradienti, torch):
        try:
            lib.set_default_device("cpu")
            assert lib.get_default_device() == lib.device("cpu")
            assert lib.zeros(2).device == lib.device("cpu")
            lib.set_default_device("cuda")  # accepted: a CPU-only build fails on use
            for make, args in (
                (lib.zeros, (2,)),
                (lib.tensor, (2.0,)),
                (lib.tensor, ([2.0],)),
                (lib.randn, (2,)),
                (lib.get_default_device, ()),
            ):
                with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
                    make(*args)
        finally:
            lib.set_default_device(None)
        assert lib.get_default_device() == lib.device("cpu")
        assert lib.tensor(2.0).item() == 2.0
    assert _same("torch.set_default_device(3.0)")[0] == "TypeError"


def test_device_as_context_manager():
    with gradienti.device("cpu"):
        assert gradienti.zeros(1).device == gradienti.device("cpu")
    with gradienti.device("cuda"), pytest.raises(AssertionError):
        gradienti.zeros(1)
    assert gradienti.get_default_device() == gradienti.device("cpu")


MODULE_MOVES = [
    "type(torch.nn.Linear(2, 2).to('cpu')).__name__",
    "torch.nn.Linear(2, 2).cpu().weight.dtype",
    "torch.nn.Linear(2, 2).to('cpu', torch.float64).weight.dtype",
    "torch.nn.Linear(2, 2).to(torch.device('cpu'), non_blocking=True).weight.dtype",
    "torch.nn.Linear(2, 2).to(device='cpu', dtype=torch.float64).weight.dtype",
    "torch.nn.Linear(2, 2).to(torch.ones(1, dtype=torch.float64)).weight.dtype",
    "torch.nn.Linear(2, 2).cuda()",
    "torch.nn.Linear(2, 2).cuda(0)",
    "torch.nn.Linear(2, 2).to('cuda')",
    "torch.nn.Linear(2, 2).to(1)",
    "torch.nn.ReLU().to('cuda')",  # no tensor to move: no error, as in PyTorch
    "torch.nn.ReLU().cuda()",
    "torch.nn.ReLU().to('gpu')",
    "torch.nn.ReLU().to(1)",
]


@pytest.mark.parametrize("expression", MODULE_MOVES)
def test_module_moves(expression):
    _same(expression)


def test_tutorial_device_selection_picks_cpu():
    """The first lines of PyTorch's quickstart tutorial, as written there."""
    for lib in (gradienti, torch):
        torch_ = lib
        device = (
            torch_.accelerator.current_accelerator().type
            if torch_.accelerator.is_available()
            else "cpu"
        )
        assert device == "cpu"
        older = (
            "cuda"
            if torch_.cuda.is_available()
            else "mps"
            if torch_.backends.mps.is_available()
            else "cpu"
        )
        model = lib.nn.Linear(3, 2).to(older)
        x = lib.ones(1, 3).to(lib.device(older))
        assert tuple(model(x).shape) == (1, 2)


@pytest.mark.parametrize("conversion", ["double", "half", "to_float64"])
def test_module_conversion_keeps_its_parameters_and_their_grads(conversion):
    """An optimizer made before ``model.double()`` still trains the model: the Parameter
    objects stay and their grads are converted with them, as in PyTorch."""
    outcomes = []
    for lib in (gradienti, torch):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 2)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.5)
        weight, bias = model.weight, model.bias
        model(lib.ones(1, 3)).sum().backward()
        grad = weight.grad
        if conversion == "to_float64":
            model.to(lib.float64)
        else:
            getattr(model, conversion)()
        optimizer.step()
        outcomes.append(
            (
                model.weight is weight and model.bias is bias and weight.grad is grad,
                str(weight.dtype),
                str(weight.grad.dtype),
                weight.detach().float().tolist(),
                bias.detach().float().tolist(),
            )
        )
    assert outcomes[0] == outcomes[1]
