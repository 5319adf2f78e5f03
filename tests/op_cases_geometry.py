"""Op cases: cross, diff, repeat_interleave, unfold, tensordot, meshgrid, cartesian_prod,
combinations, rot90, the flips, H/mH, atleast_Nd, broadcast_tensors, dstack, row_stack,
block_diag, kron, sum_to_size, diag_embed, diagflat, index_fill and type_as (ops/geometry.py,
sequence.py, index_builders.py, orientation.py, broadcasting.py, join.py, products.py,
diagonal.py, index_fill.py). Run by test_ops.py. (cdist is in test_cdist.py: PyTorch has no
double backward for it, which the table compares; column_stack in test_shape_misc.py: PyTorch's
vmap refuses it.)"""

from op_cases import ANY, S3, Case

V3 = (4, 3)  # four 3-vectors
X = (3, 4, 5)

CASES: list[Case] = [
    # -- cross product
    Case("cross(x,y,dim=1)", lambda lib, x, y: lib.cross(x, y, dim=1), (V3, V3)),
    Case("x.cross(y,-1) 3-d", lambda lib, x, y: x.cross(y, -1), ((2, 4, 3), (2, 4, 3))),
    Case("cross(x,y,0) columns", lambda lib, x, y: lib.cross(x, y, 0), ((3, 2), (3, 2))),
    Case("cross broadcast", lambda lib, x, y: lib.cross(x, y, dim=-1), ((2, 1, 3), (1, 4, 3))),
    Case("cross(x,x) same", lambda lib, x: lib.cross(x, x * 2 + 1, dim=1), (V3,)),
    # -- diff
    Case("diff(x)", lambda lib, x: lib.diff(x), ((6,),)),
    Case("x.diff(n=2,dim=0)", lambda lib, x: x.diff(n=2, dim=0), (X,)),
    Case("diff(x,dim=-2)", lambda lib, x: lib.diff(x, dim=-2), (X,)),
    Case(
        "diff prepend append",
        lambda lib, x, p, a: lib.diff(x, dim=1, prepend=p, append=a),
        (X, (3, 2, 5), (3, 1, 5)),
    ),
    Case("diff n=3 append", lambda lib, x, a: lib.diff(x, n=3, append=a), ((4,), (2,))),
    Case("diff n=0", lambda lib, x: lib.diff(x, n=0), ((4,),)),
    # -- repeat_interleave
    Case("repeat_interleave(x,2,dim=1)", lambda lib, x: lib.repeat_interleave(x, 2, dim=1), (X,)),
    Case("repeat_interleave(x,3) flat", lambda lib, x: lib.repeat_interleave(x, 3), ((2, 3),)),
    Case("x.repeat_interleave(2) 1-d", lambda lib, x: x.repeat_interleave(2), ((4,),)),
    Case(
        "repeat_interleave tensor",
        lambda lib, x: lib.repeat_interleave(x, lib.tensor([1, 0, 2, 3]), dim=-2),
        (X,),
    ),
    Case(
        "x.repeat_interleave(tensor([2]))",
        lambda lib, x: x.repeat_interleave(lib.tensor([2]), dim=0),
        (X,),
    ),
    Case(
        "repeat_interleave output_size",
        lambda lib, x: lib.repeat_interleave(x, lib.tensor([2, 1, 1]), dim=0, output_size=4),
        (X,),
    ),
    # -- unfold
    Case("x.unfold(2,2,1)", lambda lib, x: x.unfold(2, 2, 1), (X,)),
    Case("x.unfold(-1,2,2)", lambda lib, x: x.unfold(-1, 2, 2), (X,)),
    Case("x.unfold(1,3,2) overlap", lambda lib, x: x.unfold(1, 3, 2) * 1, (X,)),
    Case("x.unfold(0,3,1) 1-d", lambda lib, x: x.unfold(0, 3, 1), ((6,),)),
    Case("x.unfold(0,2,1).unfold(1,2,1)", lambda lib, x: x.unfold(0, 2, 1).unfold(1, 2, 1), (S3,)),
    # -- tensordot
    Case("tensordot(x,y)", lambda lib, x, y: lib.tensordot(x, y), (X, (4, 5, 2))),
    Case("tensordot(x,y,1)", lambda lib, x, y: lib.tensordot(x, y, 1), (X, (5, 2))),
    Case(
        "tensordot dims lists",
        lambda lib, x, y: lib.tensordot(x, y, dims=([1, 0], [0, 2])),
        (X, (4, 2, 3)),
    ),
    Case("tensordot(x,y,0) outer", lambda lib, x, y: lib.tensordot(x, y, dims=0), ((3,), (2,))),
    Case(
        "tensordot dims ints", lambda lib, x, y: lib.tensordot(x, y, dims=([2], [0])), (X, (5, 2))
    ),
    Case(  # a contracted dim of size 1 broadcasts: the other input is summed over its dim
        "tensordot size-1 dims",
        lambda lib, x, y: lib.tensordot(x, y, dims=([0, 2], [0, 1])),
        ((1, 3, 2), (4, 2, 5)),
    ),
    # -- grids
    Case(
        "meshgrid ij",
        lambda lib, x, y: lib.stack(lib.meshgrid(x, y, indexing="ij")),
        ((3,), (4,)),
    ),
    Case(
        "meshgrid xy list",
        lambda lib, x, y: lib.stack(lib.meshgrid([x, y], indexing="xy"), -1),
        ((3,), (4,)),
    ),
    Case(
        "meshgrid xy 3 grids",
        lambda lib, x, y, z: lib.stack(lib.meshgrid(x, y, z, indexing="xy")),
        ((2,), (3,), (4,)),
    ),
    Case(
        "meshgrid 0-d", lambda lib, x, y: lib.stack(lib.meshgrid(x, y, indexing="ij")), ((), (3,))
    ),
    Case("cartesian_prod(x,y)", lambda lib, x, y: lib.cartesian_prod(x, y), ((3,), (2,))),
    Case(
        "cartesian_prod(x,y,z)",
        lambda lib, x, y, z: lib.cartesian_prod(x, y, z),
        ((2,), (3,), (2,)),
    ),
    Case("cartesian_prod(x) one", lambda lib, x: lib.cartesian_prod(x) * 1, ((3,),)),
    Case("combinations(x)", lambda lib, x: lib.combinations(x), ((4,),)),
    Case(
        "combinations(x,3,with_replacement)",
        lambda lib, x: lib.combinations(x, 3, with_replacement=True),
        ((3,),),
    ),
    # -- turns, flips, conjugate transposes, at least N dims
    Case("rot90(x)", lambda lib, x: lib.rot90(x), (X,)),
    Case("x.rot90(3,[2,1])", lambda lib, x: x.rot90(3, [2, 1]), (X,)),
    Case("rot90(x,-1,(0,-1))", lambda lib, x: lib.rot90(x, -1, (0, -1)), (X,)),
    Case("rot90(x,2)", lambda lib, x: lib.rot90(x, 2), ((3, 4),)),
    Case("rot90(x,4) copy", lambda lib, x: lib.rot90(x, 4), ((3, 4),)),
    Case("fliplr(x)", lambda lib, x: lib.fliplr(x), (X,)),
    Case("x.flipud()", lambda lib, x: x.flipud(), ((4, 2),)),
    Case("x.H", lambda lib, x: x.H, ((3, 4),)),
    Case("x.mH", lambda lib, x: x.mH, (X,)),
    Case("atleast_1d 0-d", lambda lib, x: lib.atleast_1d(x), ((),)),
    Case("atleast_2d 1-d", lambda lib, x: lib.atleast_2d(x), ((4,),)),
    Case("atleast_2d 0-d", lambda lib, x: lib.atleast_2d(x), ((),)),
    Case("atleast_3d 1-d", lambda lib, x: lib.atleast_3d(x), ((4,),)),
    Case("atleast_3d 2-d", lambda lib, x: lib.atleast_3d(x), ((2, 4),)),
    Case("atleast_3d 0-d", lambda lib, x: lib.atleast_3d(x), ((),)),
    Case(
        "atleast_2d(x,y) tuple",
        lambda lib, x, y: lib.cat(lib.atleast_2d(x, y)),
        ((2, 3), (3,)),
        ANY,
    ),
    # -- broadcasting and stacking made explicit
    Case(
        "broadcast_tensors(x,y,z)",
        lambda lib, x, y, z: lib.stack(lib.broadcast_tensors(x, y, z)),
        ((3, 1), (4,), (3, 4)),
    ),
    Case(
        "broadcast_tensors(x,y)[1]",
        lambda lib, x, y: lib.broadcast_tensors(x, y)[1] * x,
        ((2, 1), (3,)),
    ),
    Case("x.sum_to_size(4,1)", lambda lib, x: x.sum_to_size(4, 1), (X,)),
    Case("x.sum_to_size((1,4,5))", lambda lib, x: x.sum_to_size((1, 4, 5)), (X,)),
    Case("dstack 1-d", lambda lib, x, y: lib.dstack([x, y]), ((4,), (4,))),
    Case("dstack 2-d 3-d", lambda lib, x, y: lib.dstack((x, y)), ((2, 3), (2, 3, 2))),
    Case("row_stack", lambda lib, x, y: lib.row_stack([x, y]), ((3,), (2, 3))),
    Case(
        "block_diag(x,y,z)",
        lambda lib, x, y, z: lib.block_diag(x, y, z),
        ((2, 3), (2,), ()),
    ),
    Case("block_diag(x,const)", lambda lib, x: lib.block_diag(x, lib.ones(2, 1)), ((2, 2),)),
    Case("kron(x,y)", lambda lib, x, y: lib.kron(x, y), ((2, 3), (4,))),
    Case("x.kron(y) 3-d", lambda lib, x, y: x.kron(y), ((2, 1, 2), (2, 3))),
    Case("kron 0-d", lambda lib, x, y: lib.kron(x, y), ((), (2,))),
    # -- diagonals
    Case("diag_embed(x)", lambda lib, x: lib.diag_embed(x), ((2, 3),)),
    Case("x.diag_embed(1,0,2)", lambda lib, x: x.diag_embed(1, 0, 2), ((2, 3),)),
    Case("diag_embed(x,-1,2,0)", lambda lib, x: lib.diag_embed(x, -1, 2, 0), ((2, 3),)),
    Case("diagflat(x)", lambda lib, x: lib.diagflat(x), ((2, 3),)),
    Case("x.diagflat(-2)", lambda lib, x: x.diagflat(-2), ((3,),)),
    Case("diagflat 0-d", lambda lib, x: lib.diagflat(x), ((),)),
    # -- index_fill
    Case(
        "x.index_fill(1,index,1.5)",
        lambda lib, x: x.index_fill(1, lib.tensor([0, 2, 0]), 1.5),
        ((2, 4),),
    ),
    # (the value comes from x: torch.func.vmap fills every sample with the last sample's value
    # when only the value is batched)
    Case(
        "index_fill(x,-1,index,x[0,0])",
        lambda lib, x: lib.index_fill(x, -1, lib.tensor([3, 1, 3]), x[0, 0]),
        ((2, 4),),
    ),
    Case(
        "x.index_fill(0,0-d index,value)",
        lambda lib, x: x.index_fill(0, lib.tensor(2), x.sum() * 2),
        ((3, 2),),
    ),
    Case("x.type_as(float64)", lambda lib, x: x.type_as(lib.zeros(1, dtype=lib.float64)), (X,)),
]
