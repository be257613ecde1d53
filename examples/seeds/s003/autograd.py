# Seed 003, autograd: a one-layer network, grad_fn, leaf grads, retain_graph, no_grad, detach,
# and vector-Jacobian products
import torch

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

w.requires_grad_(True)
b.requires_grad_(True)

print(z.grad_fn)
print(loss.grad_fn)

loss.backward()
print(w.grad)
print(b.grad)

x = torch.randn((1, 4), dtype=torch.float32, requires_grad=True)
y = x ** 2
z = y * 4
print(x)
print(y)
print(z)
loss1 = z.mean()
loss2 = z.sum()
print(loss1, loss2)
loss1.backward()  # 这个代码执行正常,但是执行完中间变量都free了,所以下一个出现了问题
print(loss1, loss2)
try:  # changed: the seed shows that this raises; catch it so the rest of the listing runs
    loss2.backward()  # 这时会引发错误
except RuntimeError as error:
    print("RuntimeError:", error)

x = torch.ones(5)  # added: the seed re-uses x from the first listing here
z = torch.matmul(x, w)+b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w)+b
print(z.requires_grad)

z = torch.matmul(x, w)+b
z_det = z.detach()
print(z_det.requires_grad)

inp = torch.eye(5, requires_grad=True)
out = (inp+1).pow(2)
out.backward(torch.ones_like(inp), retain_graph=True)
print(inp.grad)  # added: show the vector-Jacobian product
