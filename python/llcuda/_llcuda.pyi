"""
Native llcuda engine (C++ public API). Use the llcuda package, not this module directly.
"""

from collections.abc import Sequence
import enum
import os
import pathlib
from typing import Annotated, overload

import numpy
from numpy.typing import NDArray


class SamplingParams:
    """
    How the next token is chosen and when generation stops (llcuda/sampling.h).
    """

    def __init__(self) -> None: ...

    @property
    def temperature(self) -> float:
        """<= 0: greedy (most likely token)."""

    @temperature.setter
    def temperature(self, arg: float, /) -> None: ...

    @property
    def top_k(self) -> int:
        """Keep the k most likely tokens; <= 0 disables."""

    @top_k.setter
    def top_k(self, arg: int, /) -> None: ...

    @property
    def top_p(self) -> float:
        """Nucleus sampling threshold; 1 disables."""

    @top_p.setter
    def top_p(self, arg: float, /) -> None: ...

    @property
    def min_p(self) -> float:
        """Drop tokens with p < min_p * p_max; 0 disables."""

    @min_p.setter
    def min_p(self, arg: float, /) -> None: ...

    @property
    def typical_p(self) -> float:
        """Locally typical sampling; 1 disables."""

    @typical_p.setter
    def typical_p(self, arg: float, /) -> None: ...

    @property
    def repetition_penalty(self) -> float:
        """1 disables."""

    @repetition_penalty.setter
    def repetition_penalty(self, arg: float, /) -> None: ...

    @property
    def presence_penalty(self) -> float:
        """Subtracted once per token seen."""

    @presence_penalty.setter
    def presence_penalty(self, arg: float, /) -> None: ...

    @property
    def frequency_penalty(self) -> float:
        """Subtracted per occurrence."""

    @frequency_penalty.setter
    def frequency_penalty(self, arg: float, /) -> None: ...

    @property
    def penalty_last_n(self) -> int:
        """Tokens the penalties look at; -1: all."""

    @penalty_last_n.setter
    def penalty_last_n(self, arg: int, /) -> None: ...

    @property
    def seed(self) -> int | None:
        """Same seed, same text; None: a random seed."""

    @seed.setter
    def seed(self, arg: int | None, /) -> None: ...

    @property
    def max_tokens(self) -> int:
        """Generated tokens at most."""

    @max_tokens.setter
    def max_tokens(self, arg: int, /) -> None: ...

    @property
    def stop(self) -> list[str]:
        """Stop strings: generation ends before the first (not returned)."""

    @stop.setter
    def stop(self, arg: Sequence[str], /) -> None: ...

    @property
    def ignore_eos(self) -> bool:
        """Keep going past end-of-generation tokens."""

    @ignore_eos.setter
    def ignore_eos(self, arg: bool, /) -> None: ...

    @property
    def logprobs(self) -> int:
        """0: none; n: each token's log-probability and the n most likely."""

    @logprobs.setter
    def logprobs(self, arg: int, /) -> None: ...

    @property
    def grammar(self) -> str:
        """Constrain the output to a GBNF grammar ('' : none)."""

    @grammar.setter
    def grammar(self, arg: str, /) -> None: ...

    @property
    def json_schema(self) -> str:
        """Constrain the output to a JSON Schema (JSON text; '' : none)."""

    @json_schema.setter
    def json_schema(self, arg: str, /) -> None: ...

def validate(params: SamplingParams) -> None:
    """
    Raise InvalidArgumentError naming the first out-of-range field of `params`.
    """

class Backend(enum.Enum):
    """Where the model runs."""

    Auto = 0
    """CUDA when a usable GPU is present, else the CPU."""

    Cpu = 1
    """The CPU reference engine."""

    Cuda = 2
    """The CUDA engine; an error when no usable GPU."""

class KvCacheType(enum.Enum):
    """Element type of the CUDA backend's KV cache."""

    F16 = 0
    """Half precision."""

    Q8_0 = 1
    """8-bit blocks (half the memory of F16)."""

class LoadOptions:
    """How a model is loaded (llcuda/engine.h)."""

    def __init__(self) -> None: ...

    @property
    def backend(self) -> Backend:
        """Backend.Auto, Cpu or Cuda."""

    @backend.setter
    def backend(self, arg: Backend, /) -> None: ...

    @property
    def context_length(self) -> int:
        """0: the model's training context, capped at 4096."""

    @context_length.setter
    def context_length(self, arg: int, /) -> None: ...

    @property
    def n_threads(self) -> int:
        """CPU threads; 0: all cores."""

    @n_threads.setter
    def n_threads(self, arg: int, /) -> None: ...

    @property
    def kv_block_size(self) -> int:
        """Positions per KV-cache block."""

    @kv_block_size.setter
    def kv_block_size(self, arg: int, /) -> None: ...

    @property
    def prefill_chunk(self) -> int:
        """Prompt tokens per forward pass; 0: backend default."""

    @prefill_chunk.setter
    def prefill_chunk(self, arg: int, /) -> None: ...

    @property
    def max_sequences(self) -> int:
        """Sequences run at once; 0: backend default."""

    @max_sequences.setter
    def max_sequences(self, arg: int, /) -> None: ...

    @property
    def kv_type(self) -> KvCacheType:
        """KvCacheType of the CUDA KV cache."""

    @kv_type.setter
    def kv_type(self, arg: KvCacheType, /) -> None: ...

    @property
    def cuda_graphs(self) -> bool:
        """Replay decode steps from captured CUDA graphs."""

    @cuda_graphs.setter
    def cuda_graphs(self, arg: bool, /) -> None: ...

    @property
    def f16_weight_copies(self) -> bool:
        """
        CUDA: keep an f16 copy of each quantized matrix for products of many tokens (more memory, faster prompts).
        """

    @f16_weight_copies.setter
    def f16_weight_copies(self, arg: bool, /) -> None: ...

class ChatMessage:
    """One message of a conversation."""

    @overload
    def __init__(self) -> None: ...

    @overload
    def __init__(self, role: str, content: str) -> None: ...

    @property
    def role(self) -> str:
        """'system', 'user', 'assistant' or 'tool'."""

    @role.setter
    def role(self, arg: str, /) -> None: ...

    @property
    def content(self) -> str:
        """The message text."""

    @content.setter
    def content(self, arg: str, /) -> None: ...

class TokenLogprob:
    """A generated token's log-probability and the most likely alternatives."""

    @property
    def token(self) -> int:
        """Token id."""

    @property
    def text(self) -> str:
        """Token text."""

    @property
    def logprob(self) -> float:
        """Log-probability under the model."""

    @property
    def top(self) -> list[tuple[int, float]]:
        """(token id, log-probability) of the most likely tokens."""

class InferenceResult:
    """What one generation produced (llcuda/engine.h)."""

    @property
    def text(self) -> str:
        """Generated text."""

    @property
    def n_prompt_tokens(self) -> int:
        """Prompt length in tokens."""

    @property
    def n_generated_tokens(self) -> int:
        """Generated tokens."""

    @property
    def latency_ms(self) -> float:
        """Whole call, milliseconds."""

    @property
    def prompt_ms(self) -> float:
        """Prompt processing, milliseconds."""

    @property
    def tokens_per_sec(self) -> float:
        """Generated tokens / generation time."""

    @property
    def finish_reason(self) -> str:
        """'stop', 'length', 'stop_string' or 'cancelled'."""

    @property
    def tokens(self) -> list[int]:
        """Generated token ids."""

    @property
    def logprobs(self) -> list[TokenLogprob]:
        """Per generated token, when SamplingParams.logprobs > 0."""

class EngineMetrics:
    """The engine's own counters since load."""

    @property
    def n_requests(self) -> int:
        """Requests served."""

    @property
    def n_prompt_tokens(self) -> int:
        """Prompt tokens processed."""

    @property
    def n_generated_tokens(self) -> int:
        """Tokens generated."""

    @property
    def mean_latency_ms(self) -> float:
        """Mean request latency, milliseconds."""

    @property
    def mean_tokens_per_sec(self) -> float:
        """Mean generation speed of requests that generated tokens."""

class MetricsSnapshot:
    """
    Per-request latency percentiles and throughput since load or reset_metrics().
    """

    @property
    def mean_ms(self) -> float:
        """Mean request latency, milliseconds."""

    @property
    def p50_ms(self) -> float:
        """Median latency (linear interpolation, as numpy.percentile)."""

    @property
    def p95_ms(self) -> float:
        """95th percentile latency."""

    @property
    def p99_ms(self) -> float:
        """99th percentile latency."""

    @property
    def min_ms(self) -> float:
        """Fastest request."""

    @property
    def max_ms(self) -> float:
        """Slowest request."""

    @property
    def sample_count(self) -> int:
        """Requests measured."""

    @property
    def total_tokens(self) -> int:
        """Generated tokens."""

    @property
    def total_requests(self) -> int:
        """Requests served."""

    @property
    def tokens_per_sec(self) -> float:
        """Generated tokens per second of wall time."""

    @property
    def requests_per_sec(self) -> float:
        """Requests per second of wall time."""

class ModelInfo:
    """The loaded model."""

    @property
    def architecture(self) -> str:
        """GGUF architecture ("llama", "gemma3", ...)."""

    @property
    def name(self) -> str:
        """general.name of the GGUF."""

    @property
    def n_vocab(self) -> int:
        """Vocabulary size."""

    @property
    def context_length(self) -> int:
        """The engine's context, in tokens."""

    @property
    def n_parameters(self) -> int:
        """Parameters."""

    @property
    def backend(self) -> str:
        """'cpu' or 'cuda'."""

    @property
    def weight_bytes_per_token(self) -> int:
        """Weight bytes one decode step reads."""

    @property
    def kv_bytes_per_position(self) -> int:
        """KV-cache bytes per position, all layers."""

class Engine:
    """One llcuda::InferenceEngine. Safe to call from many threads."""

    def __init__(self) -> None: ...

    def load(self, path: str | os.PathLike, options: LoadOptions) -> None:
        """Load a GGUF file (replaces a loaded model); waits for running calls."""

    def unload(self) -> None:
        """Free the model; waits for running calls."""

    @property
    def is_loaded(self) -> bool:
        """Whether a model is loaded."""

    def model_info(self) -> ModelInfo:
        """The loaded model."""

    def generate(self, prompt: str, params: SamplingParams, on_piece: object | None) -> InferenceResult:
        """
        Generate from `prompt`; `on_piece(str)` (or None) gets each piece, returning False stops.
        """

    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams, on_piece: object | None) -> InferenceResult:
        """
        Render the chat template (generation prompt added) and generate the reply.
        """

    def batch(self, prompts: Sequence[str], params: SamplingParams) -> list[InferenceResult]:
        """Generate for every prompt, all in one batch."""

    def apply_chat_template(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True) -> str:
        """The prompt text the chat template renders."""

    def tokenize(self, text: str, add_special: bool = True) -> list[int]:
        """
        Token ids of `text` (BOS added when the model wants one and add_special).
        """

    def detokenize(self, ids: Sequence[int]) -> str:
        """Text of token ids."""

    def engine_metrics(self) -> EngineMetrics:
        """The engine's own counters."""

    def metrics(self) -> MetricsSnapshot:
        """Latency percentiles and throughput of the requests so far."""

    def reset_metrics(self) -> None:
        """Forget the requests recorded so far."""

class GpuDevice:
    """One GPU llcuda can use."""

    @property
    def index(self) -> int:
        """CUDA device index."""

    @property
    def name(self) -> str:
        """Device name, e.g. "Tesla T4"."""

    @property
    def compute_major(self) -> int:
        """Compute capability, major (7 for 7.5)."""

    @property
    def compute_minor(self) -> int:
        """Compute capability, minor."""

    @property
    def n_multiprocessors(self) -> int:
        """Streaming multiprocessors."""

    @property
    def total_memory(self) -> int:
        """Bytes."""

    @property
    def free_memory(self) -> int:
        """Bytes, at query time."""

class GpuQuery:
    """The answer of query_gpus()."""

    @property
    def cuda_built(self) -> bool:
        """Whether this build has the CUDA backend."""

    @property
    def status(self) -> str:
        """'2 CUDA devices', 'built without CUDA', the driver's error ..."""

    @property
    def devices(self) -> list[GpuDevice]:
        """The usable devices (empty when none)."""

def query_gpus() -> GpuQuery:
    """
    The GPUs this build can use (none, with a status saying why, without CUDA or a driver).
    """

def model_cache_dir() -> pathlib.Path:
    """
    Where llcuda keeps models: $LLCUDA_MODEL_CACHE, else ~/.cache/llcuda/models.
    """

def default_model_path() -> pathlib.Path:
    """The built-in default model's path in the cache."""

def cuda_built() -> bool:
    """
    Whether this build has the CUDA backend (a usable GPU may still be absent: see query_gpus).
    """

class GgufTensorInfo:
    """One tensor of a GGUF file (name, shape, type, where its data is)."""

    @property
    def name(self) -> str:
        """Tensor name."""

    @property
    def n_dims(self) -> int:
        """Dimensions as stored (1..4)."""

    @property
    def ne(self) -> list[int]:
        """GGUF order: innermost (contiguous) dimension first."""

    @property
    def shape(self) -> list[int]:
        """NumPy order: outermost dimension first."""

    @property
    def type(self) -> str:
        """ggml type name: 'f32', 'f16', 'q4_K', ..."""

    @property
    def offset(self) -> int:
        """Offset in the data section, bytes."""

    @property
    def n_bytes(self) -> int:
        """Bytes of data."""

    @property
    def n_elements(self) -> int:
        """Elements."""

class GgufFile:
    """
    A GGUF file opened read-only (memory-mapped, every field bounds-checked).
    """

    @staticmethod
    def open(path: str | os.PathLike) -> GgufFile:
        """
        Open and parse a GGUF file; FormatError names what is malformed and where.
        """

    @property
    def path(self) -> pathlib.Path:
        """The file."""

    @property
    def file_size(self) -> int:
        """Bytes."""

    @property
    def version(self) -> int:
        """GGUF version (2 or 3)."""

    @property
    def alignment(self) -> int:
        """Tensor data alignment."""

    @property
    def data_offset(self) -> int:
        """File offset of the tensor data section."""

    @property
    def metadata(self) -> dict:
        """Key -> value in file order (ints, floats, bools, strs, lists)."""

    @property
    def metadata_types(self) -> dict:
        """Key -> GGUF type ('u32', 'string', 'array[string]', ...)."""

    @property
    def tensors(self) -> list[GgufTensorInfo]:
        """Tensor table in file order."""

    def tensor(self, name: str) -> Annotated[NDArray, dict(writable=False)]:
        """
        A read-only NumPy view of a tensor's data (no copy). f32/f16/f64/i8-i64 tensors have their element type and NumPy shape; other types (quantized, bf16) are uint8 with the last dimension in bytes per row.
        """

def well_known_models() -> list[tuple[str, str, str, str, str]]:
    """
    The well-known model names: (name, repo, file, cache_file, description) tuples.
    """

def hub_parse_name(name: str) -> tuple[str, str, str] | None:
    """
    (repo, file, revision) of a 'owner/repo[@revision]:file' or well-known name, else None.
    """

def hub_cache_candidates(name: str) -> list[str]:
    """The cache paths a hub or well-known name is looked for at, in order."""

def hub_endpoint() -> str:
    """$HF_ENDPOINT, else https://huggingface.co."""

def hub_download_supported() -> bool:
    """
    Whether this build can download from the hub (it was built with libcurl).
    """

def hub_resolve(name: str, offline: bool | None = None, progress: object | None = None) -> str:
    """
    The file a model name stands for: an existing path as is, a hub or well-known name from the cache, downloaded when missing (unless offline; None: $HF_HUB_OFFLINE). progress(downloaded, total) is called during a download; returning False stops it (the partial file is kept for a resume).
    """

def bnb4_quantize(x: Annotated[NDArray[numpy.float32], dict(order='C', device='cpu', writable=False)], quant_type: str, blocksize: int, double_quant: bool) -> dict:
    """
    bitsandbytes-compatible block-wise 4-bit quantization of a C-contiguous float32 CPU array (read in place). Returns a dict: packed (uint8, element 2k in the high nibble), n_elements, blocksize, double_quant, and absmax (float32) or absmax_codes/nested_absmax/nested_map/nested_offset.
    """

def bnb4_dequantize(packed: Annotated[NDArray[numpy.uint8], dict(order='C', device='cpu', writable=False)], absmax: Annotated[NDArray, dict(order='C', device='cpu', writable=False)], quant_type: str, blocksize: int, n_elements: int, nested_absmax: Annotated[NDArray[numpy.float32], dict(order='C', device='cpu', writable=False)] | None = None, nested_map: Annotated[NDArray[numpy.float32], dict(order='C', device='cpu', writable=False)] | None = None, nested_offset: float = 0.0) -> Annotated[NDArray[numpy.float32], dict(shape=(None,))]:
    """
    Decode bitsandbytes 4-bit data to n_elements float32 values (a new NumPy array).
    """

def bnb4_code_values(quant_type: str) -> Annotated[NDArray[numpy.float32], dict(shape=(None,))]:
    """The 16 code values of 'nf4' or 'fp4' (index = 4-bit code), float32."""

def quantize_model(input: str | os.PathLike, output: str | os.PathLike, file_type: str, n_threads: int = 0, pure: bool = False, leave_output: bool = False, allow_requantize: bool = False, output_type: str | None = None, token_embedding_type: str | None = None, imatrix: str | os.PathLike | None = None, progress: object | None = None) -> dict:
    """
    Re-quantize a GGUF model with a llama-quantize preset (what `llcuda quantize` does); the output is written atomically. progress(name, from_type, to_type) is called before each tensor. Returns the report: tensors (name, from, to, bytes_in, bytes_out, used_imatrix), file_type, bytes_in, bytes_out.
    """

class PlanCandidate:
    """One quantization preset as planned for the budget."""

    @property
    def type(self) -> str:
        """llama-quantize preset name: 'Q4_K_M', 'Q8_0', 'F16', ..."""

    @property
    def weight_bytes(self) -> int:
        """Bytes of weights with this preset."""

    @property
    def bits_per_weight(self) -> float:
        """Average bits per weight."""

    @property
    def fits(self) -> bool:
        """Weights + KV cache (context x parallel) + workspace fit the budget."""

    @property
    def max_context_f16(self) -> int:
        """Largest context per sequence with an f16 KV cache (0: none)."""

    @property
    def max_context_q8_0(self) -> int:
        """Largest context per sequence with a q8_0 KV cache."""

class GpuSpeedEstimate:
    """Decode-speed ceiling of the recommendation on a known GPU."""

    @property
    def gpu(self) -> str:
        """GPU name."""

    @property
    def bandwidth_gb_s(self) -> float:
        """Memory bandwidth, GB/s."""

    @property
    def roofline_tok_s(self) -> float:
        """Bandwidth / bytes read per token, tokens/s."""

class Plan:
    """
    The planner's answer (llcuda/planner.h): every candidate and the recommendation.
    """

    @property
    def model_name(self) -> str:
        """Model (file name or a description of the parameter count)."""

    @property
    def n_params(self) -> int:
        """Parameters."""

    @property
    def budget_bytes(self) -> int:
        """The memory budget in bytes."""

    @property
    def kv_bytes_per_token_f16(self) -> int:
        """KV cache bytes per token (all layers), f16."""

    @property
    def kv_bytes_per_token_q8_0(self) -> int:
        """KV cache bytes per token, q8_0."""

    @property
    def workspace_bytes(self) -> int:
        """Allowance for the CUDA context, activations and logits."""

    @property
    def cuda_context_bytes(self) -> int:
        """The CUDA context's part of workspace_bytes."""

    @property
    def candidates(self) -> list[PlanCandidate]:
        """Every preset, highest precision first."""

    @property
    def recommended_type(self) -> str:
        """The recommended preset ('' when nothing fits)."""

    @property
    def recommended_kv_type(self) -> str:
        """'f16' or 'q8_0'."""

    @property
    def recommended_context(self) -> int:
        """Largest context per sequence that fits with it."""

    @property
    def recommended_total_bytes(self) -> int:
        """Weights + KV cache at the requested context + workspace."""

    @property
    def compression_vs_f16(self) -> float:
        """F16 weight bytes / recommended weight bytes."""

    @property
    def speed(self) -> list[GpuSpeedEstimate]:
        """Decode ceilings for the recommendation on known GPUs."""

    @property
    def exact_sizes(self) -> bool:
        """True when planned tensor by tensor from a GGUF file."""

def plan_deployment(model: str | os.PathLike | None, n_params: int, vram_gib: float, context: int = 4096, parallel: int = 1, strategy: str = 'balanced') -> Plan:
    """
    Plan a deployment (`llcuda recommend`): a GGUF model file (exact sizes) or a parameter count, a VRAM budget in GiB, context and parallel sequences; strategy aggressive | balanced | quality | minimal.
    """

def convert_hf_to_gguf(hf_dir: str | os.PathLike, output: str | os.PathLike, out_type: str = 'auto', n_threads: int = 0, progress: object | None = None) -> dict:
    """
    Convert a Hugging Face model directory (config.json, *.safetensors, tokenizer files) to GGUF, as `llcuda convert` does; written atomically. progress(index, count, what) is called before each output tensor. Returns the report: architecture, tensors (name, ne, type), n_merged_lora.
    """

def export_lora(base: str | os.PathLike, adapter_dir: str | os.PathLike, output: str | os.PathLike, out_type: str = 'auto', n_threads: int = 0, lora_only: bool = False, progress: object | None = None) -> dict:
    """
    Merge a PEFT LoRA adapter into a base (HF directory or GGUF) and write GGUF, as `llcuda export` does (lora_only: a llama.cpp LoRA GGUF instead). Same progress and report as convert_hf_to_gguf.
    """
