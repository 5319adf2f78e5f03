"""Op cases: shape and indexing ops (ops/shape.py, join.py, indexing.py, scatter.py). Run by
test_ops.py."""

from op_cases import ANY, NONZERO, POS, S3, SMALL_INT, Case, S  # noqa: F401

M = (3, 4)
X = (4, 5, 6)


def _put(y, index, value):
    """``y[index] = value``, as an expression."""
    y[index] = value
    return y


def _i(lib, values):
    return lib.tensor(values)


CASES: list[Case] = [
    # -- reshaping
    Case("x.reshape(2,-1,2)", lambda lib, x: x.reshape(2, -1, 2), (S3,)),
    Case("x.t().reshape(-1) (copy)", lambda lib, x: x.t().reshape(-1), (M,)),
    Case("x.view_as(y)", lambda lib, x, y: x.view_as(y) * y, ((4, 6), S3)),
    Case("x.reshape_as(y)", lambda lib, x, y: x.reshape_as(y) * y, ((4, 6), S3)),
    Case("x.flatten()", lambda lib, x: x.flatten(), (S3,)),
    Case("x.flatten(1)", lambda lib, x: x.flatten(1), (S3,)),
    Case("flatten(x,0,-2)", lambda lib, x: lib.flatten(x, 0, -2), (S3,)),
    Case("x.flatten() 0-d", lambda lib, x: x.flatten(), ((),)),
    Case("x.t().flatten() (copy)", lambda lib, x: x.t().flatten(), (M,)),
    Case("x.ravel()", lambda lib, x: x.ravel(), (S3,)),
    Case("x.unflatten(2,(2,2))", lambda lib, x: x.unflatten(2, (2, 2)), (S3,)),
    Case("unflatten(x,-1,[2,-1])", lambda lib, x: lib.unflatten(x, -1, [2, -1]), (S3,)),
    Case("x.squeeze()", lambda lib, x: x.squeeze(), ((2, 1, 3, 1),)),
    Case("x.squeeze(1)", lambda lib, x: x.squeeze(1), ((2, 1, 3, 1),)),
    Case("x.squeeze(0) (not 1)", lambda lib, x: x.squeeze(0), ((2, 1, 3, 1),)),
    Case("x.squeeze(-1)", lambda lib, x: x.squeeze(-1), ((2, 1, 3, 1),)),
    Case("x.squeeze((1,3))", lambda lib, x: x.squeeze((1, 3)), ((2, 1, 3, 1),)),
    Case("squeeze(x,(0,1))", lambda lib, x: lib.squeeze(x, (0, 1)), ((2, 1, 3, 1),)),
    Case("x.squeeze() 0-d", lambda lib, x: x.squeeze(), ((),)),
    Case("x.unsqueeze(1)", lambda lib, x: x.unsqueeze(1), (S,)),
    Case("unsqueeze(x,-1)", lambda lib, x: lib.unsqueeze(x, -1), (S,)),
    Case("x.unsqueeze(0) 0-d", lambda lib, x: x.unsqueeze(0), ((),)),
    # -- permuting
    Case("x.transpose(0,2)", lambda lib, x: x.transpose(0, 2), (S3,)),
    Case("transpose(x,-1,-2)", lambda lib, x: lib.transpose(x, -1, -2), (S3,)),
    Case("x.swapaxes(0,1)", lambda lib, x: x.swapaxes(0, 1), (S3,)),
    Case("x.swapdims(1,2)", lambda lib, x: x.swapdims(1, 2), (S3,)),
    Case("x.t()", lambda lib, x: x.t(), (M,)),
    Case("t(x) 1-d", lambda lib, x: lib.t(x), ((4,),)),
    Case("x.T", lambda lib, x: x.T, (M,)),
    Case("x.mT", lambda lib, x: x.mT, (S3,)),
    Case("x.mT 2-d", lambda lib, x: x.mT, (M,)),
    Case("x.permute(2,0,1)", lambda lib, x: x.permute(2, 0, 1), (S3,)),
    Case("x.permute((1,-1,0))", lambda lib, x: x.permute((1, -1, 0)), (S3,)),
    Case("permute(x,[2,1,0])", lambda lib, x: lib.permute(x, [2, 1, 0]), (S3,)),
    Case("x.movedim(0,2)", lambda lib, x: x.movedim(0, 2), (S3,)),
    Case("movedim(x,(0,1),(2,0))", lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), (S3,)),
    Case("x.moveaxis(-1,0)", lambda lib, x: x.moveaxis(-1, 0), (S3,)),
    Case("x.permute(1,0).t() (chain)", lambda lib, x: x.permute(1, 0).t() * x, (M,)),
    # -- broadcasting and repeating
    Case("x.expand_as(y)", lambda lib, x, y: x.expand_as(y) * y, ((4,), M)),
    Case("x.broadcast_to((2,3,4))", lambda lib, x: x.broadcast_to((2, 3, 4)), ((3, 1),)),
    Case("broadcast_to(x,(3,4))", lambda lib, x: lib.broadcast_to(x, (3, 4)), ((4,),)),
    Case("x.expand(-1,4) same", lambda lib, x: x.expand(-1, 4), (M,)),
    Case("x.repeat(2,1)", lambda lib, x: x.repeat(2, 1), (M,)),
    Case("x.repeat(2,1,3)", lambda lib, x: x.repeat(2, 1, 3), (M,)),
    Case("x.repeat((1,2))", lambda lib, x: x.repeat((1, 2)), (M,)),
    Case("x.repeat(3) 0-d", lambda lib, x: x.repeat(3), ((),)),
    Case("x.tile((2,))", lambda lib, x: x.tile((2,)), (M,)),
    Case("tile(x,(2,1,1))", lambda lib, x: lib.tile(x, (2, 1, 1)), (M,)),
    # -- flip, roll, narrow, select
    Case("x.flip(0)", lambda lib, x: x.flip(0), (S3,)),
    Case("x.flip((0,-1))", lambda lib, x: x.flip((0, -1)), (S3,)),
    Case("flip(x,[1])", lambda lib, x: lib.flip(x, [1]), (S3,)),
    Case("x.flip(0).view(-1)", lambda lib, x: x.flip(0).view(-1), (S3,)),
    Case("x.roll(1,0)", lambda lib, x: x.roll(1, 0), (S3,)),
    Case("x.roll(5)", lambda lib, x: x.roll(5), (S3,)),
    Case("roll(x,(1,-2),(0,2))", lambda lib, x: lib.roll(x, (1, -2), (0, 2)), (S3,)),
    Case("x.narrow(1,1,2)", lambda lib, x: x.narrow(1, 1, 2), (S3,)),
    Case("narrow(x,-1,-3,2)", lambda lib, x: lib.narrow(x, -1, -3, 2), (S3,)),
    Case("x.select(1,2)", lambda lib, x: x.select(1, 2), (S3,)),
    Case("select(x,-1,-1)", lambda lib, x: lib.select(x, -1, -1), (S3,)),
    # -- joining and splitting
    Case("cat([x,y])", lambda lib, x, y: lib.cat([x, y]), (M, (2, 4))),
    Case("cat((x,y),1)", lambda lib, x, y: lib.cat((x, y), 1), (M, (3, 2))),
    Case("cat([x,y],-1) 3-d", lambda lib, x, y: lib.cat([x, y], -1), (S3, (2, 3, 1))),
    Case("cat([x,x])", lambda lib, x: lib.cat([x, x]), (M,)),
    Case("cat([x,const])", lambda lib, x: lib.cat([x, lib.ones(1, 4)]), (M,)),
    Case("cat([x,int])", lambda lib, x: lib.cat([x, lib.ones(1, 4, dtype=lib.int64)]), (M,)),
    Case("cat([x]) one", lambda lib, x: lib.cat([x]), (M,)),
    Case("cat([x,empty 1-d])", lambda lib, x: lib.cat([x, lib.zeros(0)]), (M,)),
    Case("concat([x,y])", lambda lib, x, y: lib.concat([x, y]), (M, M)),
    Case("concatenate([x,y],1)", lambda lib, x, y: lib.concatenate([x, y], 1), (M, M)),
    Case("stack([x,y])", lambda lib, x, y: lib.stack([x, y]), (M, M)),
    Case("stack((x,y),-1)", lambda lib, x, y: lib.stack((x, y), -1), (M, M)),
    Case("stack([x,x,y],1)", lambda lib, x, y: lib.stack([x, x, y], 1), (M, M)),
    Case("stack 0-d", lambda lib, x, y: lib.stack([x, y]), ((), ())),
    Case("hstack([x,y])", lambda lib, x, y: lib.hstack([x, y]), (M, M)),
    Case("hstack 1-d", lambda lib, x, y: lib.hstack([x, y]), ((3,), (2,))),
    Case("vstack([x,y])", lambda lib, x, y: lib.vstack([x, y]), ((4,), M)),
    Case("x.split(2)[0]", lambda lib, x: x.split(2)[0], (M,)),
    Case("x.split(2)[1]", lambda lib, x: x.split(2)[1], (M,)),
    Case(
        "x.split(2,1)[1]*x.split(2,1)[0]", lambda lib, x: x.split(2, 1)[1] * x.split(2, 1)[0], (M,)
    ),
    Case("split(x,[1,2])[1]", lambda lib, x: lib.split(x, [1, 2])[1], (M,)),
    Case("x.split([1,3],-1) both", lambda lib, x: lib.cat(x.split([1, 3], -1)[::-1], 1), (M,)),
    Case("x.chunk(2)[1]", lambda lib, x: x.chunk(2)[1], (M,)),
    Case("chunk(x,2,1) stacked", lambda lib, x: lib.stack(lib.chunk(x, 2, 1)).sum(0), (M,)),
    Case("x.unbind()[1]", lambda lib, x: x.unbind()[1], (M,)),
    Case("stack(x.unbind(1))", lambda lib, x: lib.stack(x.unbind(1)), (M,)),
    Case("unbind(x,-1) product", lambda lib, x: lib.unbind(x, -1)[0] * lib.unbind(x, -1)[2], (M,)),
    # -- x[index]
    Case("x[0]", lambda lib, x: x[0], (X,)),
    Case("x[-1]", lambda lib, x: x[-1], (X,)),
    Case("x[1:3]", lambda lib, x: x[1:3], (X,)),
    Case("x[::2]", lambda lib, x: x[::2], (X,)),
    Case("x[:]", lambda lib, x: x[:], (X,)),
    Case("x[...]", lambda lib, x: x[...], (X,)),
    Case("x[None]", lambda lib, x: x[None], (X,)),
    Case("x[0,1]", lambda lib, x: x[0, 1], (X,)),
    Case("x[0,1,2]", lambda lib, x: x[0, 1, 2], (X,)),
    Case("x[1,-2:,::3]", lambda lib, x: x[1, -2:, ::3], (X,)),
    Case("x[...,1]", lambda lib, x: x[..., 1], (X,)),
    Case("x[:,None,2]", lambda lib, x: x[:, None, 2], (X,)),
    Case("x[[0,2]]", lambda lib, x: x[[0, 2]], (X,)),
    Case("x[[0,0,2]] repeated", lambda lib, x: x[[0, 0, 2]], (X,)),
    Case("x[:,[1,1,4]] repeated", lambda lib, x: x[:, [1, 1, 4]], (X,)),
    Case("x[1:,[0,2]]", lambda lib, x: x[1:, [0, 2]], (X,)),
    Case("x[0,[0,2]]", lambda lib, x: x[0, [0, 2]], (X,)),
    Case("x[[0,1],[1,2]]", lambda lib, x: x[[0, 1], [1, 2]], (X,)),
    Case("x[[0,1],:,[1,2]]", lambda lib, x: x[[0, 1], :, [1, 2]], (X,)),
    Case("x[tensor([[0,1],[3,3]])]", lambda lib, x: x[_i(lib, [[0, 1], [3, 3]])], (X,)),
    Case("x[...,tensor([-1,0])]", lambda lib, x: x[..., _i(lib, [-1, 0])], (X,)),
    Case("x[x>0]", lambda lib, x: x[x > 0], (X,), NONZERO),
    Case("x[mask dim 0]", lambda lib, x: x[_i(lib, [True, False, True, False])], (X,)),
    Case("x[:,mask]", lambda lib, x: x[:, _i(lib, [True, False, True, True, False])], (X,)),
    Case("x[None,[0,1]]", lambda lib, x: x[None, [0, 1]], (X,)),
    Case("x[True]", lambda lib, x: x[True], (X,)),
    Case("x[tensor(2)]", lambda lib, x: x[_i(lib, 2)], (X,)),
    # -- x[index] = value (on a non-leaf); CopySlices sits below a product so that the top
    # node's name compares (PyTorch's name() of CopySlices carries a namespace)
    Case("y[[0,2]]=v", lambda lib, x, v: _put(x * 1, [0, 2], v), (M, (2, 4))),
    Case(
        "y[:,[1,3]]=v broadcast", lambda lib, x, v: _put(x * 1, (slice(None), [1, 3]), v), (M, (2,))
    ),
    Case("y[y>0]=v 0-d", lambda lib, x, v: _put(x * 1, x > 0, v), (M, ()), NONZERO),
    Case("y[y>0]=2.5", lambda lib, x: _put(x * 1, x > 0, 2.5), (M,), NONZERO),
    Case("y[1]=v (CopySlices)", lambda lib, x, v: _put(x * 1, 1, v) * 1, (M, (4,))),
    Case(
        "y[0:2,1:]=v broadcast",
        lambda lib, x, v: _put(x * 1, (slice(0, 2), slice(1, None)), v) * 1,
        (M, (1, 3)),
    ),
    Case("y[1]=3.0", lambda lib, x: _put(x * 1, 1, 3.0) * 1, (M,)),
    Case("y[0,[1,2]]=v", lambda lib, x, v: _put(x * 1, (0, [1, 2]), v) * 1, (M, (2,))),
    Case(
        "y[...]=v broadcast (CopyBackwards)", lambda lib, x, v: _put(x * 1, ..., v) * 1, (M, (4,))
    ),
    Case("y[...]=2.5 (FillBackward3)", lambda lib, x: _put(x * 1, ..., 2.5) * x, (M,)),
    Case("y.copy_(v) broadcast", lambda lib, x, v: (x * 1).copy_(v) * x, (M, (3, 1))),
    Case(
        "x.index_put((i,),v)",
        lambda lib, x, v: x.index_put((_i(lib, [0, 2]),), v),
        (M, (2, 4)),
    ),
    Case(
        "index_put(x,(i,j),v,accumulate)",
        lambda lib, x, v: lib.index_put(x, (_i(lib, [0, 0, 2]), _i(lib, [1, 1, 3])), v, True),
        (M, (3,)),
    ),
    Case(
        "x.index_put((mask,),v 0-d)",
        lambda lib, x, v: x.index_put((x > 0,), v),
        (M, ()),
        NONZERO,
    ),
    # -- index ops with an index tensor
    Case("x.index_select(1,[0,2,0])", lambda lib, x: x.index_select(1, _i(lib, [0, 2, 0])), (S3,)),
    Case("index_select(x,-1,[3])", lambda lib, x: lib.index_select(x, -1, _i(lib, [3])), (S3,)),
    Case("x.gather(1,idx)", lambda lib, x: x.gather(1, _i(lib, [[0, 1], [1, 1], [3, 0]])), (M,)),
    Case("gather(x,0,idx) smaller", lambda lib, x: lib.gather(x, 0, _i(lib, [[2, 0]])), (M,)),
    Case(
        "x.scatter(1,idx,src)",
        lambda lib, x, s: x.scatter(1, _i(lib, [[0], [1], [3]]), s),
        (M, (3, 1)),
    ),
    Case(
        "x.scatter(0,idx,src) larger src",
        lambda lib, x, s: x.scatter(0, _i(lib, [[2, 0, 1, 2]]), s),
        (M, (1, 4)),
    ),
    Case("x.scatter(1,idx,2.0)", lambda lib, x: x.scatter(1, _i(lib, [[0], [1], [3]]), 2.0), (M,)),
    Case(
        "x.scatter_add(1,idx,src)",
        lambda lib, x, s: x.scatter_add(1, _i(lib, [[0, 0], [1, 1], [3, 0]]), s),
        (M, (3, 2)),
    ),
    Case(
        "scatter_add(x,0,idx,src)",
        lambda lib, x, s: lib.scatter_add(x, 0, _i(lib, [[1, 1, 1, 0]]), s),
        (M, (1, 4)),
    ),
    Case("x.masked_fill(x>0,0.)", lambda lib, x: x.masked_fill(x > 0, 0.0), (M,), NONZERO),
    Case("masked_fill(x,mask,v)", lambda lib, x, v: lib.masked_fill(x, x > 0, v), (M, ()), NONZERO),
    Case(
        "x.masked_fill(mask,const)",
        lambda lib, x: x.masked_fill(_i(lib, [True, False, False, True]), lib.tensor(2.0)),
        (M,),
    ),
    Case(
        "x.masked_fill(mask broadcasts x)",
        lambda lib, x: x.masked_fill(_i(lib, [[True, False, False, True], [False] * 4]), 1.5),
        ((4,),),
    ),
    Case(
        "x.take_along_dim(idx,1)",
        lambda lib, x: x.take_along_dim(_i(lib, [[0], [1], [3]]), 1),
        (M,),
    ),
    Case(
        "take_along_dim(x,idx,0) broadcast",
        lambda lib, x: lib.take_along_dim(x, _i(lib, [[0], [2], [2]]), 0),
        (M,),
    ),
    Case("x.take_along_dim(idx)", lambda lib, x: x.take_along_dim(_i(lib, [0, 5, 5])), (M,)),
    Case(
        "x.index_add(0,idx,src)",
        lambda lib, x, s: x.index_add(0, _i(lib, [0, 2, 0]), s),
        (M, (3, 4)),
    ),
    Case(
        "index_add(x,1,idx,src,alpha)",
        lambda lib, x, s: lib.index_add(x, 1, _i(lib, [3, 3]), s, alpha=2.5),
        (M, (3, 2)),
    ),
    Case("x.take([0,5,-1,5])", lambda lib, x: x.take(_i(lib, [[0, 5], [-1, 5]])), (M,)),
    Case("x.masked_select(x>0)", lambda lib, x: x.masked_select(x > 0), (M,), NONZERO),
    Case(
        "masked_select(x,mask) broadcast",
        lambda lib, x: lib.masked_select(x, _i(lib, [[True, False, True, True]] * 2)),
        ((4,),),
    ),
    Case("x.split_with_sizes([1,2],1)[1]", lambda lib, x: x.split_with_sizes([1, 2], 1)[1], (S,)),
]
