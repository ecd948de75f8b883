"""Talk to `pipeline serve` with the official Triton HTTP client (tritonclient[http]).

usage: triton_infer.py HOST:PORT MODEL_NAME ROWS_JSON OUT_JSON

ROWS_JSON is a list of applicants, {feature: value}, levels as strings and
numbers as numbers. The script asks for liveness, readiness, the model's
metadata and readiness, then infers the rows with one InferInput per
feature, built from the metadata alone: BYTES for the inputs it lists as
BYTES, FP64 for the others, shape [N], data in JSON; then again with shape
[N, 1] and the integral numbers as INT64; then with the client's defaults
(binary tensor data); then makes requests the server must refuse and keeps
the client's error messages. Writes what it saw to OUT_JSON.
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

OUTPUT = "probability_of_default"


def inputs_for(metadata, rows, column=False, ints=False, binary=False):
    n = len(rows)
    shape = [n, 1] if column else [n]
    out = []
    for spec in metadata["inputs"]:
        name, dt = spec["name"], spec["datatype"]
        values = [r[name] for r in rows]
        if dt == "BYTES":
            arr = np.array(values, dtype=object)
        else:
            arr = np.array(values, dtype=np.float64)
            if ints and np.all(arr == np.trunc(arr)):
                dt, arr = "INT64", arr.astype(np.int64)
        inp = httpclient.InferInput(name, shape, dt)
        inp.set_data_from_numpy(arr.reshape(shape), binary_data=binary)
        out.append(inp)
    return out


def refused(call):
    try:
        call()
    except InferenceServerException as e:
        return str(e)
    return None


def main():
    url, model, rows_path, out_path = sys.argv[1:5]
    with open(rows_path) as f:
        rows = json.load(f)
    client = httpclient.InferenceServerClient(url=url)
    outputs = [httpclient.InferRequestedOutput(OUTPUT, binary_data=False)]
    seen = {
        "server_live": client.is_server_live(),
        "server_ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(model),
        "other_model_ready": client.is_model_ready(model + "-nope"),
        "server_metadata": client.get_server_metadata(),
    }
    metadata = client.get_model_metadata(model)
    seen["metadata"] = metadata
    version = metadata["versions"][0]
    seen["version_ready"] = client.is_model_ready(model, version)

    result = client.infer(model, inputs_for(metadata, rows), outputs=outputs, request_id="triton-test")
    response = result.get_response()
    seen["probabilities"] = result.as_numpy(OUTPUT).tolist()
    seen["id"] = response.get("id")
    seen["model_name"] = response["model_name"]
    seen["model_version"] = response["model_version"]
    seen["warnings"] = response.get("warnings", [])

    # [N, 1], integral numbers as INT64, the version in the path, no
    # outputs named (the client then asks for binary outputs; JSON comes back)
    result = client.infer(model, inputs_for(metadata, rows, column=True, ints=True), model_version=version)
    seen["probabilities_column_int64"] = result.as_numpy(OUTPUT).reshape(-1).tolist()

    # tritonclient's defaults: binary tensor data (Triton's extension), and
    # binary outputs asked for (JSON comes back)
    result = client.infer(model, inputs_for(metadata, rows, binary=True))
    seen["probabilities_binary"] = result.as_numpy(OUTPUT).tolist()
    seen["warnings_binary"] = result.get_response().get("warnings", [])

    few = rows[:2]
    wrong = inputs_for(metadata, few)
    for i, spec in enumerate(metadata["inputs"]):
        if spec["datatype"] == "BYTES":
            wrong[i] = httpclient.InferInput(spec["name"], [len(few)], "FP64")
            wrong[i].set_data_from_numpy(np.zeros(len(few)), binary_data=False)
            break
    zodiac = httpclient.InferInput("zodiac", [len(few)], "BYTES")
    zodiac.set_data_from_numpy(np.array(["leo"] * len(few), dtype=object), binary_data=False)
    seen["errors"] = {
        "wrong_datatype": refused(lambda: client.infer(model, wrong, outputs=outputs)),
        "missing_input": refused(lambda: client.infer(model, inputs_for(metadata, few)[1:], outputs=outputs)),
        "unknown_model": refused(lambda: client.infer(model + "-nope", inputs_for(metadata, few), outputs=outputs)),
        "unknown_input": refused(lambda: client.infer(model, inputs_for(metadata, few) + [zodiac], outputs=outputs)),
    }
    client.close()
    with open(out_path, "w") as f:
        json.dump(seen, f)


if __name__ == "__main__":
    main()
