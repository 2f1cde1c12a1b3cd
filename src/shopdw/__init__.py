"""shopdw: batch ELT for e-commerce sales data, from a lake of daily files to a trusted warehouse."""

__version__ = "0.1.0"
