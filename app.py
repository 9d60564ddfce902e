from wesog_dash import create_app

app = create_app()
