//go:build !purego

#include "textflag.h"

// ADDBIN adds the pair in X0 to the histogram entry at H + 16 * (the byte
// at P), through X and R13.
#define ADDBIN(P, H, X) \
	MOVBQZX (P), R13 \
	SHLQ    $4, R13 \
	MOVUPD  (H)(R13*1), X \
	ADDPD   X0, X \
	MOVUPD  X, (H)(R13*1)

// func addRowsSSE2(hist *histEntry, off []int, data *uint8, limit, k int, rows *int32, gh []gradPair) bool
//
// For each i: the row's bytes start at data + rows[i]*k (rows == nil: i*k);
// byte j's bin is added at hist[off[j]+byte], gh[i] widened to two float64
// and added as one pair. Returns false, having stopped, at the first row
// whose start is beyond limit (its bytes would pass the data's end).
TEXT ·addRowsSSE2(SB), NOSPLIT, $0-89
	MOVQ hist+0(FP), DI
	MOVQ off_base+8(FP), SI
	MOVQ off_len+16(FP), CX
	LEAQ (SI)(CX*8), CX          // end of off
	MOVQ data+32(FP), DX
	MOVQ limit+40(FP), R9
	MOVQ k+48(FP), R10
	MOVQ rows+56(FP), R12
	MOVQ gh_base+64(FP), BX
	MOVQ gh_len+72(FP), R13
	LEAQ (BX)(R13*8), R13        // end of gh
	CMPQ SI, CX
	JEQ  done                    // no features

row:
	CMPQ BX, R13
	JAE  done
	TESTQ R12, R12
	JEQ  inorder
	MOVLQSX (R12), AX            // the row
	ADDQ $4, R12
	IMULQ R10, AX
	CMPQ AX, R9                  // unsigned: a negative row fails too
	JHI  bad
	ADDQ DX, AX
	JMP  pair

inorder:
	MOVQ DX, AX                  // the caller checked every row's bytes
	ADDQ R10, DX

pair:
	MOVSD    (BX), X0            // gradient and hessian, float32
	CVTPS2PD X0, X0              // as float64, exactly
	ADDQ $8, BX
	MOVQ SI, R11

bin:
	MOVBQZX (AX), R8
	ADDQ    (R11), R8
	SHLQ    $4, R8
	MOVUPD  (DI)(R8*1), X1
	ADDPD   X0, X1
	MOVUPD  X1, (DI)(R8*1)
	INCQ    AX
	ADDQ    $8, R11
	CMPQ    R11, CX
	JB      bin
	JMP     row

done:
	MOVB $1, ret+88(FP)
	RET

bad:
	MOVB $0, ret+88(FP)
	RET

// func subPairs(dst, src *histEntry, n int)
//
// dst[i] -= src[i] for i < n, gradient and hessian as one pair.
TEXT ·subPairs(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHLQ $4, CX
	ADDQ DI, CX                  // end of dst
	CMPQ DI, CX
	JAE  subdone

sub:
	MOVUPD (DI), X0
	MOVUPD (SI), X1
	SUBPD  X1, X0
	MOVUPD X0, (DI)
	ADDQ   $16, DI
	ADDQ   $16, SI
	CMPQ   DI, CX
	JB     sub

subdone:
	RET

// func add4SSE2(hs *[4]*[256]histEntry, p *[4]*uint8, stride, n int, gh *gradPair)
//
// For i < n and j < 4: hs[j][*(p[j] + i*stride)] += gh[i], the pair widened
// to two float64 and added as one.
TEXT ·add4SSE2(SB), NOSPLIT, $0-40
	MOVQ hs+0(FP), R13
	MOVQ 0(R13), R8
	MOVQ 8(R13), R9
	MOVQ 16(R13), R10
	MOVQ 24(R13), R11
	MOVQ p+8(FP), R13
	MOVQ 0(R13), AX
	MOVQ 8(R13), BX
	MOVQ 16(R13), CX
	MOVQ 24(R13), DX
	MOVQ stride+16(FP), SI
	MOVQ gh+32(FP), DI
	MOVQ n+24(FP), R12
	LEAQ (DI)(R12*8), R12        // end of gh
	CMPQ DI, R12
	JAE  done4

row4:
	MOVSD    (DI), X0
	CVTPS2PD X0, X0
	ADDQ     $8, DI
	ADDBIN(AX, R8, X1)
	ADDBIN(BX, R9, X2)
	ADDBIN(CX, R10, X3)
	ADDBIN(DX, R11, X4)
	ADDQ     SI, AX
	ADDQ     SI, BX
	ADDQ     SI, CX
	ADDQ     SI, DX
	CMPQ     DI, R12
	JB       row4

done4:
	RET

// func add2SSE2(hs *[2]*[256]histEntry, p *[2]*uint8, stride, n int, gh *gradPair)
//
// add4SSE2 for two histograms.
TEXT ·add2SSE2(SB), NOSPLIT, $0-40
	MOVQ hs+0(FP), R13
	MOVQ 0(R13), R8
	MOVQ 8(R13), R9
	MOVQ p+8(FP), R13
	MOVQ 0(R13), AX
	MOVQ 8(R13), BX
	MOVQ stride+16(FP), SI
	MOVQ gh+32(FP), DI
	MOVQ n+24(FP), R12
	LEAQ (DI)(R12*8), R12
	CMPQ DI, R12
	JAE  done2

row2:
	MOVSD    (DI), X0
	CVTPS2PD X0, X0
	ADDQ     $8, DI
	ADDBIN(AX, R8, X1)
	ADDBIN(BX, R9, X2)
	ADDQ     SI, AX
	ADDQ     SI, BX
	CMPQ     DI, R12
	JB       row2

done2:
	RET
