#!/usr/bin/env python3
"""The peer for issue 6's GPU benchmark: Hugging Face transformers `generate()` on the same Llama-3-8B shape as
`bench --random-model 4096,14336,32,32,8,128256` (random weights, BF16, on the GPU), greedy, at the given batch
sizes, plus the device's measured copy bandwidth and the batch-1 tokens/s limit it implies (weight bytes ÷
bandwidth). Prints one JSON object per measurement and appends them to --out (the same JSONL file gpu-check.sh
collects). Needs PyTorch with CUDA and transformers; says so and exits 3 when either is missing.
"""
import argparse
import json
import platform
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shape", default="4096,14336,32,32,8,128256",
                    help="dim,hidden,layers,heads,kv_heads,vocab (as bench --random-model)")
    ap.add_argument("--batch-sizes", default="1,32")
    ap.add_argument("--prompt-tokens", type=int, default=8)
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--out", help="append the results to this JSONL file")
    args = ap.parse_args()
    try:
        import torch
        import transformers
        from transformers import LlamaConfig, LlamaForCausalLM
    except ImportError as e:
        print(f"hf_peer_bench: {e} (needs torch with CUDA and transformers)", file=sys.stderr)
        return 3
    if not torch.cuda.is_available():
        print("hf_peer_bench: torch sees no CUDA device", file=sys.stderr)
        return 3
    dim, hidden, layers, heads, kv_heads, vocab = (int(v) for v in args.shape.split(","))
    device = torch.device("cuda")
    results = []

    def emit(record):
        record.update({"peer": "transformers", "transformers": transformers.__version__, "torch": torch.__version__,
                       "device": torch.cuda.get_device_name(0), "shape": args.shape, "host": platform.node()})
        print(json.dumps(record), flush=True)
        results.append(record)

    # copy bandwidth: a 2 GiB device-to-device copy reads and writes every byte
    n = 1 << 29
    src = torch.empty(n, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        dst.copy_(src)
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    bandwidth = 2 * n * 4 / best
    del src, dst
    torch.cuda.empty_cache()

    config = LlamaConfig(vocab_size=vocab, hidden_size=dim, intermediate_size=hidden, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=4096,
                         rope_theta=500000.0, tie_word_embeddings=False)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    with torch.device(device):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.eval()
    model.generation_config.pad_token_id = 0
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    emit({"what": "bandwidth", "copy_bytes_per_second": bandwidth, "weight_bytes": weight_bytes,
          "batch1_tokens_per_second_limit": bandwidth / weight_bytes,
          "model_build_seconds": time.perf_counter() - t0})

    for batch in (int(b) for b in args.batch_sizes.split(",")):
        ids = torch.randint(3, vocab, (batch, args.prompt_tokens), device=device)
        mask = torch.ones_like(ids)
        with torch.inference_mode():
            model.generate(ids, attention_mask=mask, max_new_tokens=4, do_sample=False)  # warm-up
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            out = model.generate(ids, attention_mask=mask, max_new_tokens=args.new_tokens,
                                 min_new_tokens=args.new_tokens, do_sample=False)
            torch.cuda.synchronize()
            seconds = time.perf_counter() - t0
        generated = (out.shape[1] - ids.shape[1]) * batch
        emit({"what": "generate", "batch_size": batch, "prompt_tokens": args.prompt_tokens,
              "new_tokens": args.new_tokens, "generated_tokens": generated, "seconds": seconds,
              "tokens_per_second": generated / seconds})

    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
