-- dusk.ops: the operations behind a Delayed's operators, field access and
-- calls.  Plain functions of a module, so they travel to workers by name.

local ops = {}

function ops.add(a, b) return a + b end
function ops.sub(a, b) return a - b end
function ops.mul(a, b) return a * b end
function ops.div(a, b) return a / b end
function ops.mod(a, b) return a % b end
function ops.pow(a, b) return a ^ b end
function ops.idiv(a, b) return a // b end
function ops.band(a, b) return a & b end
function ops.bor(a, b) return a | b end
function ops.bxor(a, b) return a ~ b end
function ops.shl(a, b) return a << b end
function ops.shr(a, b) return a >> b end
function ops.concat(a, b) return a .. b end
function ops.unm(a) return -a end
function ops.bnot(a) return ~a end
function ops.len(a) return #a end
function ops.index(t, k) return t[k] end
function ops.call(f, ...) return f(...) end

return ops
