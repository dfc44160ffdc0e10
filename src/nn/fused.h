/* fused.h - fused forms of nn.h's layer kernels for mlp.c (internal to src/nn, defined in
 * layers.c): one pass over the activations where the public kernels take two or three. Each
 * gives bit-identical results to the public calls it replaces. */
#ifndef HSWEEP_NN_FUSED_H
#define HSWEEP_NN_FUSED_H

/* hs_bn_forward_train, then out = max(out, 0) (hs_act_forward with HS_ACT_RELU). */
void hs_bn_relu_forward_train(float *out, float *xhat, float *rstd, const float *in, const float *gamma,
                              const float *beta, float *run_mean, float *run_var, int B, int C, float eps,
                              float momentum);

/* hs_bn_backward of dout masked by a ReLU: when relu_out [B x C] is not NULL, dout is read as
 * relu_out > 0 ? dout : 0 (hs_act_backward with HS_ACT_RELU, without writing it back). When dsum
 * [C] is not NULL it receives the column sums of din, summed over rows 0..B-1 in order, i.e.
 * exactly the db that hs_dense_backward would compute from din. din must not alias the inputs. */
void hs_bn_act_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *relu_out,
                        const float *xhat, const float *rstd, const float *gamma, float *dsum, int B, int C);

#endif
