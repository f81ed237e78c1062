"""The peer of bench/sandbox: Jupyter's ipykernel driven by jupyter_client, the execution path of
Open Interpreter and Data Interpreter. Prints one JSON object with its timings in milliseconds."""
import json
import sys
import time

from jupyter_client.manager import KernelManager

PLOT_CELL = "import matplotlib.pyplot as plt\nplt.plot(range(10))\nplt.title('季度收入')\nplt.show()"


def run(client, code):
    """Executes code and waits for the kernel to go idle; returns whether an image came back."""
    message_id = client.execute(code)
    image = False
    while True:
        message = client.get_iopub_msg(timeout=60)
        if message['parent_header'].get('msg_id') != message_id:
            continue
        if message['msg_type'] in ('display_data', 'execute_result') and 'image/png' in message['content'].get('data', {}):
            image = True
        if message['msg_type'] == 'status' and message['content']['execution_state'] == 'idle':
            return image


def main():
    cells = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    start = time.perf_counter()
    manager = KernelManager(kernel_name='python3')
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    run(client, '1 + 1')
    first_result = (time.perf_counter() - start) * 1000
    round_trips = []
    for _ in range(cells):
        began = time.perf_counter()
        run(client, '1 + 1')
        round_trips.append((time.perf_counter() - began) * 1000)
    run(client, "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')")
    run(client, PLOT_CELL)
    plots = []
    for _ in range(5):
        began = time.perf_counter()
        if not run(client, PLOT_CELL):
            raise SystemExit('ipykernel returned no image for the plot cell')
        plots.append((time.perf_counter() - began) * 1000)
    client.stop_channels()
    manager.shutdown_kernel(now=True)
    print(json.dumps({'first_result_ms': first_result, 'round_trip_ms': round_trips, 'plot_ms': plots}))


if __name__ == '__main__':
    main()
