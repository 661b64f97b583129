"""speechkit.features"""
