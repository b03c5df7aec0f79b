"""vrcollab: review CAD and building models together in VR, AR and the browser."""

__version__ = "0.1.0"
