from wesog_dash import create_app
from wesog_dash.memory import freeze_startup_heap

app = create_app()
freeze_startup_heap()  # last: everything built above lives as long as the process
