"""speechkit.data"""
